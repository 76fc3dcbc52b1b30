-- Opens a handoff per conversation; one already open stays as it is.
INSERT INTO handoffs (org_id, conversation_id, requested_by, reason)
SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[])
ON CONFLICT (conversation_id) WHERE status IN ('requested', 'assigned', 'active') DO NOTHING;
