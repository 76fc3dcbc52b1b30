-- Inbound messages accepted but whose turn never committed (a crash, a restart, a lane that
-- was full when they arrived), at least $2 seconds old, oldest first.
SELECT body FROM messages
WHERE direction = 'inbound' AND status = 'pending'
  AND created_at < now() - make_interval(secs => $2)
ORDER BY created_at
LIMIT $1;
