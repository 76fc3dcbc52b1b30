-- Batch insert through unnest: COPY is refused on tables under row-level security.
INSERT INTO messages (id, org_id, conversation_id, direction, seq, external_id, kind, text, body, status, created_at)
SELECT id, org_id, conversation_id, direction, seq, external_id, kind, text, body, status, to_timestamp(ts)
FROM unnest(
    $1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::int[], $6::text[], $7::text[],
    $8::text[], $9::jsonb[], $10::text[], $11::float8[]
) AS t(id, org_id, conversation_id, direction, seq, external_id, kind, text, body, status, ts);
