-- domain: Bots and flows
-- What a bot says and does: versioned flow graphs, settings, deployments, variables, message
-- templates, and the outgoing webhooks that tell other systems what happened.

-- One row per version of a flow; the engine runs the published version of each flow.
CREATE TABLE bot_flows (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id       uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    bot_id       uuid NOT NULL REFERENCES bots (id) ON DELETE CASCADE,
    name         text NOT NULL DEFAULT 'main' CHECK (name ~ '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$'),
    version      integer NOT NULL CHECK (version > 0),
    -- The node graph as the engine reads it: an object with a "nodes" collection. (A CHECK that
    -- yields NULL passes, so shape checks use coalesce / IS NOT DISTINCT FROM on missing keys.)
    graph        jsonb NOT NULL CHECK (jsonb_typeof(graph) = 'object'
                                       AND coalesce(jsonb_typeof(graph -> 'nodes'), '') IN ('object', 'array')),
    -- sha256 of the graph as loaded, so reloading an unchanged bot file adds no version.
    checksum     bytea CHECK (octet_length(checksum) = 32),
    status       text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published', 'archived')),
    -- Where the graph came from (a bot file path), NULL when edited in the dashboard.
    source       text,
    created_by   uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    published_at timestamptz,
    UNIQUE (bot_id, name, version),
    CHECK (status <> 'published' OR published_at IS NOT NULL)
);
COMMENT ON TABLE bot_flows IS 'Versioned flow graphs (nodes as JSON) of a bot; one published version per flow name.';
CREATE INDEX bot_flows_org_id_idx ON bot_flows (org_id);
CREATE INDEX bot_flows_created_by_idx ON bot_flows (created_by);
CREATE UNIQUE INDEX bot_flows_published_key ON bot_flows (bot_id, name) WHERE status = 'published';

CREATE TABLE bot_settings (
    bot_id                  uuid PRIMARY KEY REFERENCES bots (id) ON DELETE CASCADE,
    org_id                  uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    default_language        text NOT NULL DEFAULT 'en',
    timezone                text NOT NULL DEFAULT 'UTC',
    fallback_message        text,
    -- A conversation idle this long ends; the next message starts a new one.
    session_timeout_seconds integer NOT NULL DEFAULT 1800 CHECK (session_timeout_seconds > 0),
    nlu_threshold           real NOT NULL DEFAULT 0.5 CHECK (nlu_threshold BETWEEN 0 AND 1),
    typing_indicator        boolean NOT NULL DEFAULT true,
    settings                jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(settings) = 'object'),
    created_at              timestamptz NOT NULL DEFAULT now(),
    updated_at              timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE bot_settings IS 'Per-bot behaviour: language, time zone, fallback, session timeout, NLU threshold.';
CREATE INDEX bot_settings_org_id_idx ON bot_settings (org_id);
CREATE TRIGGER bot_settings_touch BEFORE UPDATE ON bot_settings
    FOR EACH ROW EXECUTE FUNCTION botrt_touch_updated_at();

CREATE TABLE bot_deployments (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id      uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    bot_id      uuid NOT NULL REFERENCES bots (id) ON DELETE CASCADE,
    flow_id     uuid NOT NULL REFERENCES bot_flows (id) ON DELETE CASCADE,
    environment text NOT NULL DEFAULT 'production' CHECK (environment IN ('development', 'staging', 'production')),
    status      text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'superseded', 'rolled_back')),
    deployed_by uuid REFERENCES users (id) ON DELETE SET NULL,
    deployed_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE bot_deployments IS 'History of which flow version ran in which environment, for rollback.';
CREATE INDEX bot_deployments_org_id_idx ON bot_deployments (org_id);
CREATE INDEX bot_deployments_bot_id_idx ON bot_deployments (bot_id, deployed_at DESC);
CREATE INDEX bot_deployments_flow_id_idx ON bot_deployments (flow_id);
CREATE INDEX bot_deployments_deployed_by_idx ON bot_deployments (deployed_by);

CREATE TABLE bot_variables (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id     uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    bot_id     uuid NOT NULL REFERENCES bots (id) ON DELETE CASCADE,
    key        text NOT NULL CHECK (key ~ '^[A-Za-z_][A-Za-z0-9_]{0,63}$'),
    value      jsonb NOT NULL CHECK (jsonb_typeof(value) <> 'null'),
    -- A secret value is masked in the dashboard and never rendered into logs.
    is_secret  boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (bot_id, key)
);
COMMENT ON TABLE bot_variables IS 'Bot-level constants that flows and templates can read.';
CREATE INDEX bot_variables_org_id_idx ON bot_variables (org_id);
CREATE TRIGGER bot_variables_touch BEFORE UPDATE ON bot_variables
    FOR EACH ROW EXECUTE FUNCTION botrt_touch_updated_at();

CREATE TABLE bot_message_templates (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id       uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    bot_id       uuid NOT NULL REFERENCES bots (id) ON DELETE CASCADE,
    name         text NOT NULL CHECK (name ~ '^[a-z0-9_]{1,512}$'),
    locale       text NOT NULL DEFAULT 'en',
    -- NULL: any channel. WhatsApp templates must be approved by Meta before use.
    channel_kind text CHECK (channel_kind IN ('webchat', 'telegram', 'whatsapp', 'slack', 'sms', 'instagram', 'voice')),
    body         text NOT NULL,
    buttons      jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(buttons) = 'array'),
    status       text NOT NULL DEFAULT 'approved'
                 CHECK (status IN ('draft', 'pending_approval', 'approved', 'rejected')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE NULLS NOT DISTINCT (bot_id, name, locale, channel_kind)
);
COMMENT ON TABLE bot_message_templates IS 'Reusable message templates, incl. WhatsApp templates awaiting approval.';
CREATE INDEX bot_message_templates_org_id_idx ON bot_message_templates (org_id);
CREATE TRIGGER bot_message_templates_touch BEFORE UPDATE ON bot_message_templates
    FOR EACH ROW EXECUTE FUNCTION botrt_touch_updated_at();

CREATE TABLE bot_webhooks (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id            uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    bot_id            uuid NOT NULL REFERENCES bots (id) ON DELETE CASCADE,
    url               text NOT NULL CHECK (url ~ '^https?://'),
    -- HMAC key for the X-Botrt-Signature header, encrypted.
    secret_ciphertext bytea,
    events            text[] NOT NULL CHECK (cardinality(events) > 0 AND events <@ ARRAY[
                          'conversation.started', 'conversation.ended', 'message.received',
                          'message.sent', 'handoff.requested', 'handoff.resolved', 'csat.received']::text[]),
    status            text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused', 'failing')),
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE bot_webhooks IS 'Outgoing webhooks a bot calls on conversation events.';
CREATE INDEX bot_webhooks_org_id_idx ON bot_webhooks (org_id);
CREATE INDEX bot_webhooks_bot_id_idx ON bot_webhooks (bot_id);
CREATE TRIGGER bot_webhooks_touch BEFORE UPDATE ON bot_webhooks
    FOR EACH ROW EXECUTE FUNCTION botrt_touch_updated_at();

CREATE TABLE bot_webhook_deliveries (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id          uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    webhook_id      uuid NOT NULL REFERENCES bot_webhooks (id) ON DELETE CASCADE,
    event           text NOT NULL,
    payload         jsonb NOT NULL CHECK (jsonb_typeof(payload) = 'object'),
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed', 'dead')),
    attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    response_status integer CHECK (response_status BETWEEN 100 AND 599),
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz
);
COMMENT ON TABLE bot_webhook_deliveries IS 'Attempts to deliver a webhook event, retried with backoff.';
CREATE INDEX bot_webhook_deliveries_org_id_idx ON bot_webhook_deliveries (org_id);
CREATE INDEX bot_webhook_deliveries_webhook_id_idx ON bot_webhook_deliveries (webhook_id, created_at DESC);
CREATE INDEX bot_webhook_deliveries_due_idx ON bot_webhook_deliveries (next_attempt_at) WHERE status = 'pending';
