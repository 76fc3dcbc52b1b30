-- What a pooled connection is reset to on release: no cursors, listeners or locks, role kept.
SELECT pg_advisory_unlock_all();
CLOSE ALL;
UNLISTEN *;
RESET botrt.org_id;
SET ROLE botrt_app;
