-- The sender's open conversation on a channel, opening a contact and conversation if needed.
WITH contact AS (
    INSERT INTO end_users (org_id, channel_id, external_id, display_name)
    VALUES ($1, $2, $4, $5)
    ON CONFLICT (channel_id, external_id) DO UPDATE
        SET last_seen_at = now(), display_name = coalesce(EXCLUDED.display_name, end_users.display_name)
    RETURNING id
),
existing AS (
    SELECT c.id
    FROM conversations c, contact
    WHERE c.end_user_id = contact.id AND c.status <> 'ended'
    ORDER BY c.started_at DESC
    LIMIT 1
),
created AS (
    INSERT INTO conversations (org_id, bot_id, channel_id, end_user_id)
    SELECT $1, $3, $2, contact.id FROM contact
    WHERE NOT EXISTS (SELECT FROM existing)
    RETURNING id
)
SELECT id FROM existing
UNION ALL
SELECT id FROM created;
