-- Drains DEFAULT partitions, creates monthly partitions ahead, drops those past the longest
-- retention (checkpointing audit ones) and prunes old dedupe keys. $1: the time to act as of.
-- Row pruning is left to maintenance/prune_expired_rows, one short transaction per batch.
SELECT action, table_name, detail, row_count
  FROM botrt_maintain_partitions($1::timestamptz, false);
