-- Open handoffs of the current organization, oldest first, with where the user is.
SELECT h.conversation_id, h.reason, h.status, h.requested_by,
       extract(epoch FROM h.requested_at)::float8 AS requested_at,
       ch.kind AS channel_kind, ch.slug AS channel_slug, u.external_id AS contact, u.display_name
FROM handoffs h
JOIN conversations c ON c.id = h.conversation_id
JOIN bot_channels ch ON ch.id = c.channel_id
JOIN end_users u ON u.id = c.end_user_id
WHERE h.status IN ('requested', 'assigned', 'active')
ORDER BY h.requested_at
LIMIT $1;
