-- Closes the open handoff of each conversation: returned to the bot, resolved, or abandoned.
UPDATE handoffs h
SET status = t.status, resolved_at = now()
FROM unnest($1::uuid[], $2::text[]) AS t(conversation_id, status)
WHERE h.conversation_id = t.conversation_id AND h.status IN ('requested', 'assigned', 'active');
