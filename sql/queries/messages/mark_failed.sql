-- Dead letter: the message will not be sent; the reason stays with it.
UPDATE messages
SET status = 'failed', body = body || jsonb_build_object('failure', $3::text)
WHERE id = $1 AND created_at = to_timestamp($2) AND status = 'pending';
