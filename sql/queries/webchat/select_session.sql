-- The latest conversation of a widget session (the session is the contact's external id).
SELECT c.id, c.status
FROM end_users u
JOIN conversations c ON c.end_user_id = u.id
WHERE u.channel_id = $1 AND u.external_id = $2
ORDER BY c.started_at DESC
LIMIT 1;
