-- domain: Bots and flows
-- Bots and their channels.
CREATE TABLE bots (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id      uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    slug        text NOT NULL CHECK (slug ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    name        text NOT NULL,
    -- The bot definition as loaded from its file (flow, NLU, settings), for audit and display.
    definition  jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(definition) = 'object'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    deleted_at  timestamptz,
    UNIQUE (org_id, slug)
);
COMMENT ON TABLE bots IS 'Bot definitions owned by an organization.';
CREATE TRIGGER bots_touch BEFORE UPDATE ON bots
    FOR EACH ROW EXECUTE FUNCTION botrt_touch_updated_at();

CREATE TABLE bot_channels (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id      uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    bot_id      uuid NOT NULL REFERENCES bots (id) ON DELETE CASCADE,
    kind        text NOT NULL
                CHECK (kind IN ('webchat', 'telegram', 'whatsapp', 'slack', 'sms', 'instagram', 'voice')),
    -- Unique in the deployment: it is the path segment of the channel's routes.
    slug        text NOT NULL UNIQUE CHECK (slug ~ '^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$'),
    -- Non-secret settings (allowed_origins, api_base, ...); secrets live in channel_credentials.
    config      jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(config) = 'object'),
    enabled     boolean NOT NULL DEFAULT true,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE bot_channels IS 'Channels (webchat, telegram, ...) through which a bot is reached.';
CREATE INDEX bot_channels_org_id_idx ON bot_channels (org_id);
CREATE INDEX bot_channels_bot_id_idx ON bot_channels (bot_id);
CREATE TRIGGER bot_channels_touch BEFORE UPDATE ON bot_channels
    FOR EACH ROW EXECUTE FUNCTION botrt_touch_updated_at();
