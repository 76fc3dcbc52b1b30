-- Session-level advisory lock: one migrator at a time across processes.
SELECT pg_advisory_lock($1);
