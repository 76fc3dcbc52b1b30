-- Marks inbound messages done; created_at lets PostgreSQL prune to one partition.
UPDATE messages m
SET status = 'processed'
FROM unnest($1::uuid[], $2::float8[]) AS t(id, ts)
WHERE m.id = t.id AND m.created_at = to_timestamp(t.ts) AND m.status = 'pending';
