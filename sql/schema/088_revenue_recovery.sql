-- domain: Revenue recovery
-- Proactive campaigns that win back revenue through conversations (abandoned carts, failed
-- payments, lapsed customers): audiences of contacts, A/B experiments with variants, the
-- messages sent, each recovery attempt and its outcome, and the consent that allows contact.

CREATE TABLE recovery_campaigns (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id     uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    bot_id     uuid NOT NULL REFERENCES bots (id) ON DELETE CASCADE,
    channel_id uuid REFERENCES bot_channels (id) ON DELETE SET NULL,
    -- The flow a reply continues in.
    flow_id    uuid REFERENCES bot_flows (id) ON DELETE SET NULL,
    name       text NOT NULL,
    kind       text NOT NULL CHECK (kind IN ('abandoned_cart', 'failed_payment', 'winback', 'renewal', 'upsell')),
    status     text NOT NULL DEFAULT 'draft'
               CHECK (status IN ('draft', 'scheduled', 'running', 'paused', 'completed', 'archived')),
    -- When and how often to write: {"timezone": "...", "max_attempts": n, "interval_hours": n,
    -- "send_window": {"start": "09:00", "end": "20:00"}?}.
    schedule   jsonb NOT NULL DEFAULT '{"timezone": "UTC", "max_attempts": 3, "interval_hours": 24}'
               CHECK (jsonb_typeof(schedule) = 'object'
                      AND jsonb_typeof(schedule -> 'timezone') IS NOT DISTINCT FROM 'string'
                      AND jsonb_typeof(schedule -> 'max_attempts') IS NOT DISTINCT FROM 'number'
                      AND jsonb_typeof(schedule -> 'interval_hours') IS NOT DISTINCT FROM 'number'),
    starts_at  timestamptz,
    ends_at    timestamptz,
    created_by uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, name),
    CHECK (ends_at IS NULL OR starts_at IS NULL OR ends_at > starts_at)
);
COMMENT ON TABLE recovery_campaigns IS 'Revenue recovery campaigns: who to contact, through which bot, when.';
CREATE INDEX recovery_campaigns_bot_id_idx ON recovery_campaigns (bot_id);
CREATE INDEX recovery_campaigns_channel_id_idx ON recovery_campaigns (channel_id);
CREATE INDEX recovery_campaigns_flow_id_idx ON recovery_campaigns (flow_id);
CREATE INDEX recovery_campaigns_created_by_idx ON recovery_campaigns (created_by);
CREATE TRIGGER recovery_campaigns_touch BEFORE UPDATE ON recovery_campaigns
    FOR EACH ROW EXECUTE FUNCTION botrt_touch_updated_at();

CREATE TABLE campaign_audiences (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id         uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    campaign_id    uuid NOT NULL REFERENCES recovery_campaigns (id) ON DELETE CASCADE,
    name           text NOT NULL,
    -- Contact filter: {"attributes": {...}, "channels": [...], "last_seen_before": "..."}.
    filter         jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(filter) = 'object'),
    estimated_size integer CHECK (estimated_size >= 0),
    refreshed_at   timestamptz,
    created_at     timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE campaign_audiences IS 'Segments of contacts a campaign targets, by filter.';
CREATE INDEX campaign_audiences_org_id_idx ON campaign_audiences (org_id);
CREATE INDEX campaign_audiences_campaign_id_idx ON campaign_audiences (campaign_id);

CREATE TABLE campaign_audience_members (
    org_id      uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    audience_id uuid NOT NULL REFERENCES campaign_audiences (id) ON DELETE CASCADE,
    end_user_id uuid NOT NULL REFERENCES end_users (id) ON DELETE CASCADE,
    status      text NOT NULL DEFAULT 'eligible' CHECK (status IN ('eligible', 'excluded', 'opted_out', 'contacted')),
    added_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (audience_id, end_user_id)
);
COMMENT ON TABLE campaign_audience_members IS 'The contacts an audience resolved to.';
CREATE INDEX campaign_audience_members_org_id_idx ON campaign_audience_members (org_id);
CREATE INDEX campaign_audience_members_end_user_id_idx ON campaign_audience_members (end_user_id);

CREATE TABLE campaign_experiments (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id       uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    campaign_id  uuid NOT NULL REFERENCES recovery_campaigns (id) ON DELETE CASCADE,
    name         text NOT NULL,
    hypothesis   text NOT NULL DEFAULT '',
    metric       text NOT NULL CHECK (metric IN ('recovery_rate', 'recovered_revenue', 'reply_rate')),
    status       text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'running', 'concluded')),
    -- Per-variant statistics and the significance test: {"variants": {...}, "p_value": n}.
    results      jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(results) = 'object'),
    started_at   timestamptz,
    concluded_at timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (campaign_id, name)
);
COMMENT ON TABLE campaign_experiments IS 'A/B experiments comparing campaign variants on one metric.';
CREATE INDEX campaign_experiments_org_id_idx ON campaign_experiments (org_id);

CREATE TABLE campaign_variants (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id        uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    campaign_id   uuid NOT NULL REFERENCES recovery_campaigns (id) ON DELETE CASCADE,
    experiment_id uuid REFERENCES campaign_experiments (id) ON DELETE CASCADE,
    name          text NOT NULL,
    is_control    boolean NOT NULL DEFAULT false,
    is_winner     boolean NOT NULL DEFAULT false,
    -- Share of the audience, in percent.
    weight        integer NOT NULL DEFAULT 50 CHECK (weight BETWEEN 0 AND 100),
    template_id   uuid REFERENCES bot_message_templates (id) ON DELETE SET NULL,
    -- The message when no template is used: {"text": "...", "buttons": [...]?}.
    content       jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(content) = 'object'),
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (campaign_id, name),
    CHECK (template_id IS NOT NULL OR jsonb_typeof(content -> 'text') IS NOT DISTINCT FROM 'string')
);
COMMENT ON TABLE campaign_variants IS 'Message variants of a campaign, weighted for A/B tests.';
CREATE INDEX campaign_variants_org_id_idx ON campaign_variants (org_id);
CREATE INDEX campaign_variants_experiment_id_idx ON campaign_variants (experiment_id);
CREATE INDEX campaign_variants_template_id_idx ON campaign_variants (template_id);

CREATE TABLE campaign_messages (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id          uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    campaign_id     uuid NOT NULL REFERENCES recovery_campaigns (id) ON DELETE CASCADE,
    variant_id      uuid REFERENCES campaign_variants (id) ON DELETE SET NULL,
    end_user_id     uuid NOT NULL REFERENCES end_users (id) ON DELETE CASCADE,
    conversation_id uuid REFERENCES conversations (id) ON DELETE SET NULL,
    outbox_id       uuid REFERENCES outbox (id) ON DELETE SET NULL,
    status          text NOT NULL DEFAULT 'scheduled' CHECK (status IN (
                        'scheduled', 'sent', 'delivered', 'read', 'replied', 'failed', 'suppressed')),
    error           text,
    scheduled_at    timestamptz NOT NULL,
    sent_at         timestamptz,
    replied_at      timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE campaign_messages IS 'Each proactive message a campaign sends to a contact, and how it went.';
CREATE INDEX campaign_messages_org_id_idx ON campaign_messages (org_id);
CREATE INDEX campaign_messages_campaign_id_idx ON campaign_messages (campaign_id, status);
CREATE INDEX campaign_messages_variant_id_idx ON campaign_messages (variant_id);
CREATE INDEX campaign_messages_end_user_id_idx ON campaign_messages (end_user_id);
CREATE INDEX campaign_messages_conversation_id_idx ON campaign_messages (conversation_id);
CREATE INDEX campaign_messages_outbox_id_idx ON campaign_messages (outbox_id);
CREATE INDEX campaign_messages_due_idx ON campaign_messages (scheduled_at) WHERE status = 'scheduled';

CREATE TABLE recovery_attempts (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id              uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    campaign_id         uuid NOT NULL REFERENCES recovery_campaigns (id) ON DELETE CASCADE,
    end_user_id         uuid NOT NULL REFERENCES end_users (id) ON DELETE CASCADE,
    campaign_message_id uuid REFERENCES campaign_messages (id) ON DELETE SET NULL,
    subject_kind        text NOT NULL CHECK (subject_kind IN ('cart', 'invoice', 'subscription', 'renewal')),
    -- The customer's own reference (cart id, invoice number) the attempt is about.
    external_ref        text NOT NULL,
    amount_cents        bigint NOT NULL CHECK (amount_cents >= 0),
    currency            text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    attempt_no          integer NOT NULL DEFAULT 1 CHECK (attempt_no >= 1),
    status              text NOT NULL DEFAULT 'pending' CHECK (status IN (
                            'pending', 'in_progress', 'recovered', 'failed', 'expired', 'opted_out')),
    next_attempt_at     timestamptz,
    attempted_at        timestamptz,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (campaign_id, end_user_id, external_ref, attempt_no)
);
COMMENT ON TABLE recovery_attempts IS 'Attempts to recover one cart, invoice or subscription from one contact.';
CREATE INDEX recovery_attempts_org_id_idx ON recovery_attempts (org_id);
CREATE INDEX recovery_attempts_end_user_id_idx ON recovery_attempts (end_user_id);
CREATE INDEX recovery_attempts_campaign_message_id_idx ON recovery_attempts (campaign_message_id);
CREATE INDEX recovery_attempts_due_idx ON recovery_attempts (next_attempt_at) WHERE status = 'pending';
CREATE TRIGGER recovery_attempts_touch BEFORE UPDATE ON recovery_attempts
    FOR EACH ROW EXECUTE FUNCTION botrt_touch_updated_at();

CREATE TABLE recovery_outcomes (
    id                     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id                 uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    attempt_id             uuid NOT NULL REFERENCES recovery_attempts (id) ON DELETE CASCADE,
    outcome                text NOT NULL CHECK (outcome IN ('recovered', 'partially_recovered', 'lost', 'opted_out')),
    recovered_amount_cents bigint NOT NULL DEFAULT 0 CHECK (recovered_amount_cents >= 0),
    currency               text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    attributed_variant_id  uuid REFERENCES campaign_variants (id) ON DELETE SET NULL,
    -- Evidence from the customer's system: {"order_id": "...", "source": "webhook"}.
    details                jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(details) = 'object'),
    occurred_at            timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE recovery_outcomes IS 'How a recovery attempt ended and the revenue it brought back.';
CREATE INDEX recovery_outcomes_org_id_idx ON recovery_outcomes (org_id, occurred_at);
CREATE INDEX recovery_outcomes_attempt_id_idx ON recovery_outcomes (attempt_id);
CREATE INDEX recovery_outcomes_attributed_variant_id_idx ON recovery_outcomes (attributed_variant_id);

CREATE TABLE contact_consents (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id      uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    end_user_id uuid NOT NULL REFERENCES end_users (id) ON DELETE CASCADE,
    purpose     text NOT NULL CHECK (purpose IN ('marketing', 'transactional', 'recovery')),
    status      text NOT NULL CHECK (status IN ('granted', 'revoked')),
    source      text NOT NULL CHECK (source IN ('keyword', 'widget', 'import', 'api')),
    -- What proves it: {"message_id": "...", "keyword": "STOP"} or {"ip": "...", "form": "..."}.
    evidence    jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(evidence) = 'object'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (end_user_id, purpose)
);
COMMENT ON TABLE contact_consents IS 'Whether a contact agreed to be messaged, per purpose (STOP revokes).';
CREATE INDEX contact_consents_org_id_idx ON contact_consents (org_id);
CREATE TRIGGER contact_consents_touch BEFORE UPDATE ON contact_consents
    FOR EACH ROW EXECUTE FUNCTION botrt_touch_updated_at();
