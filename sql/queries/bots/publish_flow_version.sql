-- A new published version of the bot's main flow (archive the previous one first).
INSERT INTO bot_flows (org_id, bot_id, name, version, graph, checksum, status, source, published_at)
VALUES ($1, $2, 'main', $3, $4, $5, 'published', $6, now());
