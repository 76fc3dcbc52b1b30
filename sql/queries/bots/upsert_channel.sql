-- A channel slug is unique in the deployment; moving it to another bot is refused below.
INSERT INTO bot_channels (org_id, bot_id, kind, slug, config)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (slug) DO UPDATE
    SET kind = EXCLUDED.kind, config = EXCLUDED.config, enabled = true
    WHERE bot_channels.bot_id = EXCLUDED.bot_id
RETURNING id;
