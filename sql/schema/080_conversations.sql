-- domain: Conversations and analytics
-- Contacts, conversations and their messages.
CREATE TABLE end_users (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id       uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    channel_id   uuid NOT NULL REFERENCES bot_channels (id) ON DELETE CASCADE,
    -- The platform's id of the person (Telegram chat id, phone number, widget session).
    external_id  text NOT NULL,
    display_name text,
    attributes   jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(attributes) = 'object'),
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (channel_id, external_id)
);
COMMENT ON TABLE end_users IS 'Contacts: the people who talk to bots, one row per channel identity.';
CREATE INDEX end_users_org_id_idx ON end_users (org_id);

CREATE TABLE conversations (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id          uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    bot_id          uuid NOT NULL REFERENCES bots (id) ON DELETE CASCADE,
    channel_id      uuid NOT NULL REFERENCES bot_channels (id) ON DELETE CASCADE,
    end_user_id     uuid NOT NULL REFERENCES end_users (id) ON DELETE CASCADE,
    status          text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'handoff', 'ended')),
    -- Engine state between turns: current node, slots, flow version.
    state           jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(state) = 'object'),
    -- Highest seq given to an outbound message; seq rises by one per server message.
    last_seq        integer NOT NULL DEFAULT 0 CHECK (last_seq >= 0),
    started_at      timestamptz NOT NULL DEFAULT now(),
    last_message_at timestamptz NOT NULL DEFAULT now(),
    ended_at        timestamptz
);
COMMENT ON TABLE conversations IS 'A thread between one contact and one bot on one channel, with engine state.';
CREATE INDEX conversations_org_id_idx ON conversations (org_id);
CREATE INDEX conversations_bot_id_idx ON conversations (bot_id);
CREATE INDEX conversations_channel_id_idx ON conversations (channel_id);
CREATE INDEX conversations_end_user_id_idx ON conversations (end_user_id, started_at DESC);

-- Partitioned by month on created_at, so the primary key carries created_at.
CREATE TABLE messages (
    id              uuid NOT NULL DEFAULT gen_random_uuid(),
    -- No foreign key to organizations: the conversation's already ties the row to its tenant,
    -- and every index and check saved here is paid back on each of the busiest table's rows.
    org_id          uuid NOT NULL,
    conversation_id uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    direction       text NOT NULL CHECK (direction IN ('inbound', 'outbound')),
    -- Server sequence number of an outbound message within its conversation.
    seq             integer CHECK ((direction = 'outbound') = (seq IS NOT NULL)),
    -- The platform's (or widget client's) id of an inbound message.
    external_id     text,
    kind            text NOT NULL CHECK (kind IN ('text', 'media', 'postback', 'location', 'status')),
    text            text,
    -- The full event as msgspec encoded it (buttons, media, payload).
    body            jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(body) = 'object'),
    -- Inbound: pending until the engine's turn for it commits; outbound: how delivery went.
    status          text NOT NULL CHECK (status IN ('pending', 'processed', 'sent', 'delivered', 'read', 'failed')),
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (id, created_at)
) PARTITION BY RANGE (created_at);
COMMENT ON TABLE messages IS 'Every inbound and outbound message, partitioned by month.';
CREATE INDEX messages_conversation_seq_idx ON messages (conversation_id, seq) WHERE seq IS NOT NULL;
CREATE INDEX messages_conversation_created_idx ON messages (conversation_id, created_at);
CREATE INDEX messages_pending_idx ON messages (created_at) WHERE status = 'pending';
-- Status callbacks find an outbound row by the platform's message id (inbound rows, the most
-- numerous, stay out of that index: their dedupe is inbound_dedupe_keys). The outbox's state lives
-- on the row itself (pending -> sent | failed, then delivered / read): no second table to agree.
CREATE INDEX messages_external_id_idx ON messages (external_id)
    WHERE direction = 'outbound' AND external_id IS NOT NULL;
SELECT botrt_ensure_monthly_partitions('messages', now() - interval '1 month', 5);

-- Dedupe keys of inbound messages. Unpartitioned because a unique key on a partitioned table
-- must include the partition key, and a platform redelivery may cross a month end.
CREATE TABLE inbound_dedupe_keys (
    channel_id  uuid NOT NULL REFERENCES bot_channels (id) ON DELETE CASCADE,
    external_id text NOT NULL,
    org_id      uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (channel_id, external_id)
);
COMMENT ON TABLE inbound_dedupe_keys IS 'External ids already accepted per channel, pruned after the redelivery window.';
CREATE INDEX inbound_dedupe_keys_org_id_idx ON inbound_dedupe_keys (org_id);
CREATE INDEX inbound_dedupe_keys_created_at_idx ON inbound_dedupe_keys (created_at);
