-- When the user last wrote in a conversation (WhatsApp's 24-hour window starts there).
SELECT extract(epoch FROM max(created_at))::float8 FROM messages
WHERE conversation_id = $1 AND direction = 'inbound' AND kind <> 'status';
