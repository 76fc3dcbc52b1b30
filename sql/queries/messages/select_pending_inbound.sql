-- Inbound messages accepted but whose turn never committed (a crash or restart).
SELECT body FROM messages
WHERE direction = 'inbound' AND status = 'pending'
ORDER BY created_at
LIMIT $1;
