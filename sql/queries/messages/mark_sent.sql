-- The platform accepted these messages: record its id (for status callbacks) and any note.
UPDATE messages m
SET status = 'sent',
    external_id = t.provider_id,
    body = CASE WHEN t.note IS NULL THEN m.body ELSE m.body || jsonb_build_object('note', t.note) END
FROM unnest($1::uuid[], $2::float8[], $3::text[], $4::text[]) AS t(id, ts, provider_id, note)
WHERE m.id = t.id AND m.created_at = to_timestamp(t.ts) AND m.status = 'pending';
