-- Outbound messages stored but never confirmed sent (a restart interrupted them), in order.
SELECT body FROM messages
WHERE direction = 'outbound' AND status = 'pending'
ORDER BY created_at, seq
LIMIT $1;
