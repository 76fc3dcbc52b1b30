-- The embedded server's application database (CREATE DATABASE takes no parameters).
CREATE DATABASE botrt;
