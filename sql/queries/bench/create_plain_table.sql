-- A plain table shaped like messages, with no row-level security or partitions: the raw rate.
CREATE TABLE IF NOT EXISTS bench_plain_messages (LIKE messages INCLUDING DEFAULTS);
