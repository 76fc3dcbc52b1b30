-- A new published version of the bot's main flow; the previous published one is archived.
WITH archived AS (
    UPDATE bot_flows SET status = 'archived'
    WHERE bot_id = $2 AND name = 'main' AND status = 'published'
)
INSERT INTO bot_flows (org_id, bot_id, name, version, graph, checksum, status, source, published_at)
VALUES ($1, $2, 'main', $3, $4, $5, 'published', $6, now());
