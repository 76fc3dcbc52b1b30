-- domain: Billing and subscriptions
-- Plans and their quotas (global catalog), each organization's subscription, metered usage
-- (partitioned by month), per-organization quota overrides, invoices and payments.

-- What is metered. A domain so that plans, quotas, usage and invoice lines agree.
CREATE DOMAIN usage_metric AS text CHECK (VALUE IN (
    'messages', 'conversations', 'llm_prompt_tokens', 'llm_completion_tokens', 'voice_seconds',
    'transcription_seconds', 'tts_characters', 'knowledge_chunks', 'api_calls', 'seats', 'bots'));
COMMENT ON DOMAIN usage_metric IS 'A billable quantity: messages, tokens, voice seconds, ...';

CREATE TABLE plans (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    code             text NOT NULL UNIQUE CHECK (code ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    name             text NOT NULL,
    description      text NOT NULL DEFAULT '',
    price_cents      integer NOT NULL CHECK (price_cents >= 0),
    currency         text NOT NULL DEFAULT 'USD' CHECK (currency ~ '^[A-Z]{3}$'),
    billing_interval text NOT NULL CHECK (billing_interval IN ('month', 'year')),
    trial_days       integer NOT NULL DEFAULT 0 CHECK (trial_days >= 0),
    -- Feature switches: a flat object of booleans (sso, white_label, voice, ...).
    features         jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(features) = 'object'),
    status           text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'legacy', 'archived')),
    created_at       timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE plans IS 'Subscription plans offered (global catalog).';

CREATE TABLE plan_quotas (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    plan_id            uuid NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
    metric             usage_metric NOT NULL,
    included           bigint NOT NULL CHECK (included >= 0),
    -- Price per unit beyond the included amount; NULL when the plan stops at the limit.
    overage_unit_cents numeric(12, 6) CHECK (overage_unit_cents >= 0),
    UNIQUE (plan_id, metric)
);
COMMENT ON TABLE plan_quotas IS 'What a plan includes per billing period, and the overage price.';

CREATE TABLE billing_customers (
    org_id               uuid PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
    provider             text NOT NULL DEFAULT 'stripe' CHECK (provider IN ('stripe', 'manual')),
    external_customer_id text,
    billing_email        text CHECK (billing_email ~ '^[^@\s]+@[^@\s]+$'),
    company_name         text,
    -- Postal address: {"line1", "city", "postal_code", "country"} at least.
    address              jsonb CHECK (address IS NULL OR (jsonb_typeof(address) = 'object'
                                      AND address ?& ARRAY['line1', 'city', 'postal_code', 'country'])),
    tax_id               text,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    UNIQUE (provider, external_customer_id)
);
COMMENT ON TABLE billing_customers IS 'An organization''s billing identity at the payment provider.';
CREATE TRIGGER billing_customers_touch BEFORE UPDATE ON billing_customers
    FOR EACH ROW EXECUTE FUNCTION botrt_touch_updated_at();

CREATE TABLE subscriptions (
    id                       uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id                   uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    plan_id                  uuid NOT NULL REFERENCES plans (id) ON DELETE RESTRICT,
    status                   text NOT NULL
                             CHECK (status IN ('trialing', 'active', 'past_due', 'paused', 'canceled', 'incomplete')),
    seats                    integer NOT NULL DEFAULT 1 CHECK (seats > 0),
    current_period_start     timestamptz NOT NULL,
    current_period_end       timestamptz NOT NULL,
    trial_ends_at            timestamptz,
    cancel_at                timestamptz,
    canceled_at              timestamptz,
    external_subscription_id text UNIQUE,
    created_at               timestamptz NOT NULL DEFAULT now(),
    updated_at               timestamptz NOT NULL DEFAULT now(),
    CHECK (current_period_end > current_period_start)
);
COMMENT ON TABLE subscriptions IS 'An organization''s plan subscription and its current billing period.';
CREATE INDEX subscriptions_org_id_idx ON subscriptions (org_id);
CREATE INDEX subscriptions_plan_id_idx ON subscriptions (plan_id);
-- At most one live subscription per organization.
CREATE UNIQUE INDEX subscriptions_live_key ON subscriptions (org_id)
    WHERE status IN ('trialing', 'active', 'past_due', 'paused');
CREATE TRIGGER subscriptions_touch BEFORE UPDATE ON subscriptions
    FOR EACH ROW EXECUTE FUNCTION botrt_touch_updated_at();

-- Metered usage, written by the batch writer, partitioned by month of occurrence. bot_id and
-- conversation_id carry no foreign keys: usage must outlive the bot or conversation it was for,
-- and a cascade from a deleted bot into a partitioned table of this size is not wanted.
CREATE TABLE usage_events (
    id              uuid NOT NULL DEFAULT gen_random_uuid(),
    org_id          uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    bot_id          uuid,
    conversation_id uuid,
    metric          usage_metric NOT NULL,
    quantity        bigint NOT NULL CHECK (quantity > 0),
    -- The writer's key for the event (e.g. message id + metric), so a retried batch counts once;
    -- it must come with the same occurred_at, which the unique key includes (partition key rule).
    idempotency_key text,
    attributes      jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(attributes) = 'object'),
    occurred_at     timestamptz NOT NULL DEFAULT now(),
    recorded_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (id, occurred_at),
    UNIQUE (org_id, idempotency_key, occurred_at)
) PARTITION BY RANGE (occurred_at);
COMMENT ON TABLE usage_events IS 'Metered usage (messages, tokens, voice seconds), partitioned by month.';
CREATE INDEX usage_events_org_metric_idx ON usage_events (org_id, metric, occurred_at);
SELECT botrt_ensure_monthly_partitions('usage_events', now() - interval '1 month', 5);

CREATE TABLE quotas (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id      uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    metric      usage_metric NOT NULL,
    period      text NOT NULL CHECK (period IN ('day', 'month')),
    limit_value bigint NOT NULL CHECK (limit_value >= 0),
    -- hard: refuse beyond the limit; soft: allow, warn and bill overage.
    enforcement text NOT NULL DEFAULT 'hard' CHECK (enforcement IN ('hard', 'soft')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, metric, period)
);
COMMENT ON TABLE quotas IS 'Per-organization usage limits overriding the plan''s.';
CREATE TRIGGER quotas_touch BEFORE UPDATE ON quotas
    FOR EACH ROW EXECUTE FUNCTION botrt_touch_updated_at();

CREATE TABLE invoices (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id              uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    subscription_id     uuid REFERENCES subscriptions (id) ON DELETE SET NULL,
    number              text NOT NULL UNIQUE,
    status              text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'open', 'paid', 'void', 'uncollectible')),
    currency            text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    subtotal_cents      bigint NOT NULL CHECK (subtotal_cents >= 0),
    tax_cents           bigint NOT NULL DEFAULT 0 CHECK (tax_cents >= 0),
    total_cents         bigint NOT NULL,
    period_start        timestamptz NOT NULL,
    period_end          timestamptz NOT NULL,
    issued_at           timestamptz,
    due_at              timestamptz,
    paid_at             timestamptz,
    external_invoice_id text UNIQUE,
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    CHECK (total_cents = subtotal_cents + tax_cents),
    CHECK (period_end > period_start),
    CHECK ((status = 'paid') = (paid_at IS NOT NULL))
);
COMMENT ON TABLE invoices IS 'Invoices for a billing period: subscription plus usage overage.';
CREATE INDEX invoices_org_id_idx ON invoices (org_id, period_start DESC);
CREATE INDEX invoices_subscription_id_idx ON invoices (subscription_id);
CREATE TRIGGER invoices_touch BEFORE UPDATE ON invoices
    FOR EACH ROW EXECUTE FUNCTION botrt_touch_updated_at();

CREATE TABLE invoice_line_items (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id            uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    invoice_id        uuid NOT NULL REFERENCES invoices (id) ON DELETE CASCADE,
    kind              text NOT NULL CHECK (kind IN ('subscription', 'usage', 'credit', 'adjustment')),
    metric            usage_metric,
    description       text NOT NULL,
    quantity          numeric(20, 6) NOT NULL DEFAULT 1,
    unit_amount_cents numeric(20, 6) NOT NULL,
    amount_cents      bigint NOT NULL,
    CHECK ((kind = 'usage') = (metric IS NOT NULL))
);
COMMENT ON TABLE invoice_line_items IS 'The lines of an invoice.';
CREATE INDEX invoice_line_items_org_id_idx ON invoice_line_items (org_id);
CREATE INDEX invoice_line_items_invoice_id_idx ON invoice_line_items (invoice_id);

CREATE TABLE payment_methods (
    id                         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id                     uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    provider                   text NOT NULL DEFAULT 'stripe' CHECK (provider IN ('stripe', 'manual')),
    external_payment_method_id text,
    kind                       text NOT NULL CHECK (kind IN ('card', 'sepa_debit', 'ach_debit', 'bank_transfer')),
    brand                      text,
    last4                      text CHECK (last4 ~ '^[0-9]{4}$'),
    exp_month                  smallint CHECK (exp_month BETWEEN 1 AND 12),
    exp_year                   smallint CHECK (exp_year BETWEEN 2000 AND 2200),
    is_default                 boolean NOT NULL DEFAULT false,
    created_at                 timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE payment_methods IS 'Payment methods on file (provider references, never card numbers).';
CREATE INDEX payment_methods_org_id_idx ON payment_methods (org_id);
CREATE UNIQUE INDEX payment_methods_default_key ON payment_methods (org_id) WHERE is_default;

CREATE TABLE payments (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id              uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    invoice_id          uuid NOT NULL REFERENCES invoices (id) ON DELETE CASCADE,
    payment_method_id   uuid REFERENCES payment_methods (id) ON DELETE SET NULL,
    amount_cents        bigint NOT NULL CHECK (amount_cents > 0),
    currency            text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
    status              text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'succeeded', 'failed', 'refunded')),
    failure_code        text,
    failure_message     text,
    external_payment_id text UNIQUE,
    attempted_at        timestamptz NOT NULL DEFAULT now(),
    settled_at          timestamptz
);
COMMENT ON TABLE payments IS 'Payment attempts against invoices, failed ones included.';
CREATE INDEX payments_org_id_idx ON payments (org_id);
CREATE INDEX payments_invoice_id_idx ON payments (invoice_id);
CREATE INDEX payments_payment_method_id_idx ON payments (payment_method_id);
