-- Partitions from last month to three months ahead for every monthly-partitioned table; rows
-- that landed in a DEFAULT partition move out first. No row pruning here (that is maintenance).
SELECT * FROM botrt_maintain_partitions(now(), false);
