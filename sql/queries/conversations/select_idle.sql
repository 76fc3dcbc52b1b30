-- Open conversations of the current organization with no message for $1 seconds.
SELECT id FROM conversations
WHERE status <> 'ended' AND last_message_at < now() - make_interval(secs => $1)
ORDER BY last_message_at
LIMIT $2;
