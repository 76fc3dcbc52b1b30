-- domain: Channels and integrations
-- What surrounds bot_channels (030_bots.sql): encrypted channel credentials, the raw inbound
-- event log (partitioned by month; deduplication itself is inbound_dedupe_keys in
-- 080_conversations.sql, because a unique key on a partitioned table must include its
-- partition key), the outbox of messages to send and their delivery statuses, one typed
-- configuration table per channel kind, and third-party integrations (help desks, CRMs).

CREATE TABLE channel_credentials (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id            uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    channel_id        uuid NOT NULL REFERENCES bot_channels (id) ON DELETE CASCADE,
    -- NULL: encrypted with the key derived from BOTRT_SECRET_KEY itself.
    encryption_key_id uuid REFERENCES encryption_keys (id) ON DELETE RESTRICT,
    -- bot_token, app_secret, access_token, verify_token, signing_secret, auth_token, ...
    name              text NOT NULL CHECK (name ~ '^[a-z][a-z0-9_]{0,62}$'),
    -- AES-256-GCM: nonce || ciphertext || tag.
    ciphertext        bytea NOT NULL CHECK (octet_length(ciphertext) > 28),
    created_at        timestamptz NOT NULL DEFAULT now(),
    rotated_at        timestamptz,
    UNIQUE (channel_id, name)
);
COMMENT ON TABLE channel_credentials IS 'Secrets of a channel (tokens, signing secrets), encrypted at rest.';
CREATE INDEX channel_credentials_org_id_idx ON channel_credentials (org_id);
CREATE INDEX channel_credentials_encryption_key_id_idx ON channel_credentials (encryption_key_id);

CREATE TABLE inbound_events (
    id          uuid NOT NULL DEFAULT gen_random_uuid(),
    org_id      uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    channel_id  uuid NOT NULL REFERENCES bot_channels (id) ON DELETE CASCADE,
    -- The platform's id of the delivery (update_id, wamid, event_id, MessageSid, ...).
    external_id text,
    event_type  text NOT NULL,
    -- The verified payload as received (form posts converted to an object).
    payload     jsonb NOT NULL CHECK (jsonb_typeof(payload) = 'object'),
    status      text NOT NULL DEFAULT 'accepted'
                CHECK (status IN ('accepted', 'processed', 'duplicate', 'ignored', 'failed')),
    error       text,
    received_at timestamptz NOT NULL DEFAULT now(),
    processed_at timestamptz,
    PRIMARY KEY (id, received_at)
) PARTITION BY RANGE (received_at);
COMMENT ON TABLE inbound_events IS 'Raw verified webhook deliveries as received, partitioned by month.';
CREATE INDEX inbound_events_org_received_idx ON inbound_events (org_id, received_at);
CREATE INDEX inbound_events_channel_external_idx ON inbound_events (channel_id, external_id);
CREATE INDEX inbound_events_unprocessed_idx ON inbound_events (received_at) WHERE status = 'accepted';
SELECT botrt_ensure_monthly_partitions('inbound_events', now() - interval '1 month', 5);

CREATE TABLE outbox (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id              uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    channel_id          uuid NOT NULL REFERENCES bot_channels (id) ON DELETE CASCADE,
    conversation_id     uuid REFERENCES conversations (id) ON DELETE CASCADE,
    -- The messages row this sends. No foreign key: messages is partitioned (its key is
    -- (id, created_at)) and retired by month, while a dead letter may be kept for inspection.
    message_id          uuid,
    message_created_at  timestamptz,
    -- The platform's id of the recipient (chat id, phone number, channel).
    recipient           text NOT NULL,
    -- The rendered platform request.
    payload             jsonb NOT NULL CHECK (jsonb_typeof(payload) = 'object'),
    status              text NOT NULL DEFAULT 'pending'
                        CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'dead')),
    attempts            integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts        integer NOT NULL DEFAULT 8 CHECK (max_attempts > 0),
    next_attempt_at     timestamptz NOT NULL DEFAULT now(),
    last_error          text,
    external_message_id text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    sent_at             timestamptz,
    CHECK ((message_id IS NULL) = (message_created_at IS NULL)),
    CHECK ((status = 'sent') = (sent_at IS NOT NULL))
);
COMMENT ON TABLE outbox IS 'Outbound sends, stored pending before sending; retried with backoff, then dead-lettered.';
CREATE INDEX outbox_org_id_idx ON outbox (org_id);
CREATE INDEX outbox_channel_id_idx ON outbox (channel_id);
CREATE INDEX outbox_conversation_id_idx ON outbox (conversation_id);
CREATE UNIQUE INDEX outbox_message_key ON outbox (message_id) WHERE message_id IS NOT NULL;
-- What a sender (or a restarted one) picks up next.
CREATE INDEX outbox_due_idx ON outbox (next_attempt_at) WHERE status IN ('pending', 'sending');
CREATE INDEX outbox_external_message_idx ON outbox (channel_id, external_message_id)
    WHERE external_message_id IS NOT NULL;
CREATE TRIGGER outbox_touch BEFORE UPDATE ON outbox
    FOR EACH ROW EXECUTE FUNCTION botrt_touch_updated_at();

CREATE TABLE delivery_statuses (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id              uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    channel_id          uuid NOT NULL REFERENCES bot_channels (id) ON DELETE CASCADE,
    outbox_id           uuid REFERENCES outbox (id) ON DELETE SET NULL,
    external_message_id text NOT NULL,
    status              text NOT NULL
                        CHECK (status IN ('accepted', 'queued', 'sent', 'delivered', 'read', 'failed', 'undelivered')),
    error_code          text,
    -- The platform's status callback as received.
    payload             jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(payload) = 'object'),
    occurred_at         timestamptz NOT NULL,
    received_at         timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE delivery_statuses IS 'Delivery callbacks from platforms (sent, delivered, read, failed).';
CREATE INDEX delivery_statuses_org_id_idx ON delivery_statuses (org_id, received_at);
CREATE INDEX delivery_statuses_channel_message_idx ON delivery_statuses (channel_id, external_message_id);
CREATE INDEX delivery_statuses_outbox_id_idx ON delivery_statuses (outbox_id);

-- One typed configuration table per channel kind, keyed by the channel. Secrets are in
-- channel_credentials; the shared, non-secret basics (api_base, enabled) stay on bot_channels.

CREATE TABLE telegram_integrations (
    channel_id           uuid PRIMARY KEY REFERENCES bot_channels (id) ON DELETE CASCADE,
    org_id               uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    bot_username         text CHECK (bot_username ~ '^[A-Za-z0-9_]{5,32}$'),
    allowed_updates      text[] NOT NULL DEFAULT '{message,callback_query}' CHECK (allowed_updates <@ ARRAY[
                             'message', 'edited_message', 'callback_query', 'channel_post', 'my_chat_member']::text[]),
    parse_mode           text NOT NULL DEFAULT 'HTML' CHECK (parse_mode IN ('HTML', 'MarkdownV2', 'none')),
    drop_pending_updates boolean NOT NULL DEFAULT false,
    webhook_set_at       timestamptz,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE telegram_integrations IS 'Telegram Bot API settings of a channel.';
CREATE INDEX telegram_integrations_org_id_idx ON telegram_integrations (org_id);

CREATE TABLE whatsapp_integrations (
    channel_id           uuid PRIMARY KEY REFERENCES bot_channels (id) ON DELETE CASCADE,
    org_id               uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    phone_number_id      text NOT NULL UNIQUE CHECK (phone_number_id ~ '^[0-9]+$'),
    business_account_id  text CHECK (business_account_id ~ '^[0-9]+$'),
    display_phone_number text,
    graph_api_version    text NOT NULL DEFAULT 'v21.0' CHECK (graph_api_version ~ '^v[0-9]+\.[0-9]+$'),
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE whatsapp_integrations IS 'WhatsApp Cloud API settings of a channel (phone number id, WABA).';
CREATE INDEX whatsapp_integrations_org_id_idx ON whatsapp_integrations (org_id);

CREATE TABLE slack_integrations (
    channel_id      uuid PRIMARY KEY REFERENCES bot_channels (id) ON DELETE CASCADE,
    org_id          uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    team_id         text NOT NULL CHECK (team_id ~ '^[TE][A-Z0-9]+$'),
    app_id          text NOT NULL CHECK (app_id ~ '^A[A-Z0-9]+$'),
    bot_user_id     text CHECK (bot_user_id ~ '^[UW][A-Z0-9]+$'),
    scopes          text[] NOT NULL DEFAULT '{}',
    reply_in_thread boolean NOT NULL DEFAULT true,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (team_id, app_id)
);
COMMENT ON TABLE slack_integrations IS 'Slack app installation of a channel (workspace, app, bot user).';
CREATE INDEX slack_integrations_org_id_idx ON slack_integrations (org_id);

CREATE TABLE sms_integrations (
    channel_id            uuid PRIMARY KEY REFERENCES bot_channels (id) ON DELETE CASCADE,
    org_id                uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    account_sid           text NOT NULL CHECK (account_sid ~ '^AC[0-9a-fA-F]{32}$'),
    from_number           text CHECK (from_number ~ '^\+[1-9][0-9]{6,14}$'),
    messaging_service_sid text CHECK (messaging_service_sid ~ '^MG[0-9a-fA-F]{32}$'),
    status_callbacks      boolean NOT NULL DEFAULT true,
    created_at            timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    CHECK (from_number IS NOT NULL OR messaging_service_sid IS NOT NULL)
);
COMMENT ON TABLE sms_integrations IS 'Twilio SMS settings of a channel (account, sender).';
CREATE INDEX sms_integrations_org_id_idx ON sms_integrations (org_id);

CREATE TABLE instagram_integrations (
    channel_id           uuid PRIMARY KEY REFERENCES bot_channels (id) ON DELETE CASCADE,
    org_id               uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    instagram_account_id text NOT NULL UNIQUE CHECK (instagram_account_id ~ '^[0-9]+$'),
    page_id              text CHECK (page_id ~ '^[0-9]+$'),
    graph_api_version    text NOT NULL DEFAULT 'v21.0' CHECK (graph_api_version ~ '^v[0-9]+\.[0-9]+$'),
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE instagram_integrations IS 'Instagram Messaging settings of a channel (account, page).';
CREATE INDEX instagram_integrations_org_id_idx ON instagram_integrations (org_id);

CREATE TABLE webchat_integrations (
    channel_id        uuid PRIMARY KEY REFERENCES bot_channels (id) ON DELETE CASCADE,
    org_id            uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    -- Origins allowed to open the widget websocket (checked against Origin).
    allowed_origins   text[] NOT NULL DEFAULT '{}',
    greeting          text,
    -- Widget look: {"title": "...", "primary_color": "#rrggbb", ...}.
    theme             jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(theme) = 'object'),
    launcher_position text NOT NULL DEFAULT 'bottom-right' CHECK (launcher_position IN ('bottom-right', 'bottom-left')),
    require_email     boolean NOT NULL DEFAULT false,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE webchat_integrations IS 'Live-chat widget settings of a channel (origins, greeting, theme).';
CREATE INDEX webchat_integrations_org_id_idx ON webchat_integrations (org_id);

CREATE TABLE integrations (
    id                     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id                 uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    kind                   text NOT NULL CHECK (kind IN (
                               'zendesk', 'intercom', 'freshdesk', 'hubspot', 'salesforce', 'zapier', 'segment')),
    name                   text NOT NULL,
    config                 jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(config) = 'object'),
    credentials_ciphertext bytea,
    status                 text NOT NULL DEFAULT 'connected' CHECK (status IN ('connected', 'error', 'disconnected')),
    last_synced_at         timestamptz,
    last_error             text,
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, kind, name)
);
COMMENT ON TABLE integrations IS 'Third-party connections: help desks for handoff, CRMs, event sinks.';
CREATE TRIGGER integrations_touch BEFORE UPDATE ON integrations
    FOR EACH ROW EXECUTE FUNCTION botrt_touch_updated_at();

CREATE TABLE bot_integrations (
    org_id         uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    bot_id         uuid NOT NULL REFERENCES bots (id) ON DELETE CASCADE,
    integration_id uuid NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    purpose        text NOT NULL CHECK (purpose IN ('handoff', 'crm_sync', 'event_sink')),
    config         jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(config) = 'object'),
    created_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (bot_id, integration_id, purpose)
);
COMMENT ON TABLE bot_integrations IS 'Which integrations a bot uses, and for what.';
CREATE INDEX bot_integrations_org_id_idx ON bot_integrations (org_id);
CREATE INDEX bot_integrations_integration_id_idx ON bot_integrations (integration_id);
