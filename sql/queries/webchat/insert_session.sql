-- A new widget session: its contact and its first conversation in one statement.
WITH contact AS (
    INSERT INTO end_users (org_id, channel_id, external_id)
    VALUES ($1, $2, $4)
    ON CONFLICT (channel_id, external_id) DO UPDATE SET last_seen_at = now()
    RETURNING id
)
INSERT INTO conversations (org_id, bot_id, channel_id, end_user_id)
SELECT $1, $3, $2, contact.id FROM contact
RETURNING id;
