-- The bot's published main flow is superseded (a new version is published next).
UPDATE bot_flows SET status = 'archived' WHERE bot_id = $1 AND name = 'main' AND status = 'published';
