-- Outbound messages of a conversation after a seq, oldest first, for widget replay.
SELECT body FROM messages
WHERE conversation_id = $1 AND seq > $2
ORDER BY seq
LIMIT $3;
