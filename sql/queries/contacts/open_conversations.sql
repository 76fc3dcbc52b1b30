-- Each sender's open conversation on its channel, opening contacts and conversations where
-- needed, for a batch of distinct (channel, sender) pairs of one organization ($1).
-- Returns (channel_id, sender, conversation_id) per pair.
WITH input AS (
    SELECT * FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::text[]) AS t(channel_id, bot_id, sender, display_name)
),
contact AS (
    INSERT INTO end_users (org_id, channel_id, external_id, display_name)
    SELECT $1, channel_id, sender, display_name FROM input
    ON CONFLICT (channel_id, external_id) DO UPDATE
        SET last_seen_at = now(), display_name = coalesce(EXCLUDED.display_name, end_users.display_name)
    RETURNING id, channel_id, external_id
),
existing AS (
    SELECT DISTINCT ON (c.end_user_id) c.end_user_id, c.id
    FROM conversations c
    JOIN contact ON c.end_user_id = contact.id
    WHERE c.status <> 'ended'
    ORDER BY c.end_user_id, c.started_at DESC
),
created AS (
    INSERT INTO conversations (org_id, bot_id, channel_id, end_user_id)
    SELECT $1, input.bot_id, contact.channel_id, contact.id
    FROM contact
    JOIN input ON input.channel_id = contact.channel_id AND input.sender = contact.external_id
    WHERE NOT EXISTS (SELECT FROM existing WHERE existing.end_user_id = contact.id)
    RETURNING id, end_user_id
)
SELECT contact.channel_id, contact.external_id AS sender, coalesce(existing.id, created.id) AS conversation_id
FROM contact
LEFT JOIN existing ON existing.end_user_id = contact.id
LEFT JOIN created ON created.end_user_id = contact.id;
