-- Applies the latest state of each conversation in a group commit.
UPDATE conversations c
SET state = t.state, last_seq = t.last_seq, status = t.status, last_message_at = now(),
    ended_at = CASE WHEN t.status = 'ended' THEN coalesce(c.ended_at, now()) END
FROM unnest($1::uuid[], $2::jsonb[], $3::int[], $4::text[]) AS t(id, state, last_seq, status)
WHERE c.id = t.id;
