-- One organization, bot, channel, contact and conversation to write messages for.
WITH o AS (
    INSERT INTO organizations (slug, name) VALUES ('bench', 'Bench') RETURNING id
), b AS (
    INSERT INTO bots (org_id, slug, name) SELECT id, 'bench', 'Bench' FROM o RETURNING id, org_id
), ch AS (
    INSERT INTO bot_channels (org_id, bot_id, kind, slug)
    SELECT org_id, id, 'webchat', 'bench-web' FROM b RETURNING id, org_id, bot_id
), u AS (
    INSERT INTO end_users (org_id, channel_id, external_id)
    SELECT org_id, id, 'visitor' FROM ch RETURNING id, org_id, channel_id
), c AS (
    INSERT INTO conversations (org_id, bot_id, channel_id, end_user_id)
    SELECT u.org_id, ch.bot_id, ch.id, u.id FROM u JOIN ch ON ch.id = u.channel_id RETURNING id, org_id
)
SELECT org_id, id AS conversation_id FROM c;
