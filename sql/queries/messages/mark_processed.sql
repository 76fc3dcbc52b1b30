-- Marks inbound messages done (with a voice note's transcript, when there is one); created_at
-- lets PostgreSQL prune to one partition.
UPDATE messages m
SET status = 'processed',
    text = coalesce(t.transcript, m.text),
    body = CASE WHEN t.transcript IS NULL THEN m.body ELSE m.body || jsonb_build_object('transcript', t.transcript) END
FROM unnest($1::uuid[], $2::float8[], $3::text[]) AS t(id, ts, transcript)
WHERE m.id = t.id AND m.created_at = to_timestamp(t.ts) AND m.status = 'pending';
