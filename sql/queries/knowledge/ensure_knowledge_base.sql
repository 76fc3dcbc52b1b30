-- The knowledge base named $2 (default: the bot's slug) of bot $1, created and linked to the bot
-- when missing. An existing one is only read, so re-ingesting unchanged documents writes nothing.
WITH bot AS (
    SELECT id, org_id, coalesce($2, slug) AS name FROM bots WHERE id = $1 AND deleted_at IS NULL
), existing AS (
    SELECT kb.id, kb.language FROM knowledge_bases kb JOIN bot ON kb.org_id = bot.org_id AND kb.name = bot.name
), created AS (
    INSERT INTO knowledge_bases (org_id, name)
    SELECT org_id, name FROM bot WHERE NOT EXISTS (SELECT FROM existing)
    ON CONFLICT (org_id, name) DO NOTHING
    RETURNING id, language
), chosen AS (
    SELECT id, language FROM existing
    UNION ALL
    SELECT id, language FROM created
), linked AS (
    INSERT INTO bot_knowledge_bases (org_id, bot_id, knowledge_base_id)
    SELECT bot.org_id, bot.id, chosen.id FROM bot, chosen
     WHERE NOT EXISTS (SELECT FROM bot_knowledge_bases l WHERE l.bot_id = bot.id AND l.knowledge_base_id = chosen.id)
    ON CONFLICT DO NOTHING
)
SELECT id, language::text AS language FROM chosen;
