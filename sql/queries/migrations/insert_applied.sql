INSERT INTO schema_migrations (filename, checksum) VALUES ($1, $2);
