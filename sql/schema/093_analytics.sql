-- domain: Conversations and analytics
-- What happens around conversations (080_conversations.sql): human handoffs and their events,
-- tags and agent notes, CSAT, customer health scores, churn predictions and privacy requests;
-- then the analytics: materialized views (refreshed CONCURRENTLY by botrt_refresh_analytics(),
-- so each has a unique index) and, because materialized views cannot have row-level security,
-- one tenant view over each that shows only the current organization's rows.

CREATE TABLE handoffs (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id           uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    conversation_id  uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    requested_by     text NOT NULL CHECK (requested_by IN ('bot', 'end_user', 'agent', 'rule')),
    reason           text,
    status           text NOT NULL DEFAULT 'requested'
                     CHECK (status IN ('requested', 'assigned', 'active', 'resolved', 'returned', 'abandoned')),
    assigned_user_id uuid REFERENCES users (id) ON DELETE SET NULL,
    team_id          uuid REFERENCES teams (id) ON DELETE SET NULL,
    -- Set when the conversation went to an external help desk instead of the live-agent console.
    integration_id   uuid REFERENCES integrations (id) ON DELETE SET NULL,
    requested_at     timestamptz NOT NULL DEFAULT now(),
    assigned_at      timestamptz,
    resolved_at      timestamptz,
    updated_at       timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE handoffs IS 'A conversation taken over by a human agent until handed back.';
CREATE INDEX handoffs_org_requested_idx ON handoffs (org_id, requested_at);
CREATE INDEX handoffs_conversation_id_idx ON handoffs (conversation_id);
CREATE INDEX handoffs_assigned_user_id_idx ON handoffs (assigned_user_id);
CREATE INDEX handoffs_team_id_idx ON handoffs (team_id);
CREATE INDEX handoffs_integration_id_idx ON handoffs (integration_id);
-- One open handoff per conversation.
CREATE UNIQUE INDEX handoffs_open_key ON handoffs (conversation_id)
    WHERE status IN ('requested', 'assigned', 'active');
CREATE TRIGGER handoffs_touch BEFORE UPDATE ON handoffs
    FOR EACH ROW EXECUTE FUNCTION botrt_touch_updated_at();

CREATE TABLE handoff_events (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id        uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    handoff_id    uuid NOT NULL REFERENCES handoffs (id) ON DELETE CASCADE,
    kind          text NOT NULL CHECK (kind IN (
                      'requested', 'assigned', 'accepted', 'transferred', 'resolved', 'returned', 'abandoned')),
    actor_user_id uuid REFERENCES users (id) ON DELETE SET NULL,
    data          jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(data) = 'object'),
    occurred_at   timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE handoff_events IS 'The timeline of a handoff: assigned, transferred, resolved, returned.';
CREATE INDEX handoff_events_org_id_idx ON handoff_events (org_id);
CREATE INDEX handoff_events_handoff_id_idx ON handoff_events (handoff_id, occurred_at);
CREATE INDEX handoff_events_actor_user_id_idx ON handoff_events (actor_user_id);

CREATE TABLE conversation_tags (
    org_id          uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    conversation_id uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    tag             text NOT NULL CHECK (tag ~ '^[A-Za-z0-9_][A-Za-z0-9_:.-]{0,62}$'),
    added_by        uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (conversation_id, tag)
);
COMMENT ON TABLE conversation_tags IS 'Labels on conversations, set by agents, flows or plugins.';
CREATE INDEX conversation_tags_org_tag_idx ON conversation_tags (org_id, tag);
CREATE INDEX conversation_tags_added_by_idx ON conversation_tags (added_by);

CREATE TABLE conversation_notes (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id          uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    conversation_id uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    author_user_id  uuid REFERENCES users (id) ON DELETE SET NULL,
    body            text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE conversation_notes IS 'Internal notes live agents leave on a conversation (never sent).';
CREATE INDEX conversation_notes_org_id_idx ON conversation_notes (org_id);
CREATE INDEX conversation_notes_conversation_id_idx ON conversation_notes (conversation_id);
CREATE INDEX conversation_notes_author_user_id_idx ON conversation_notes (author_user_id);

CREATE TABLE csat_responses (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id          uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    conversation_id uuid NOT NULL UNIQUE REFERENCES conversations (id) ON DELETE CASCADE,
    bot_id          uuid NOT NULL REFERENCES bots (id) ON DELETE CASCADE,
    end_user_id     uuid NOT NULL REFERENCES end_users (id) ON DELETE CASCADE,
    rating          smallint NOT NULL CHECK (rating BETWEEN 1 AND 5),
    comment         text,
    -- Whether a human took part, to compare bot-only and handed-off satisfaction.
    handed_off      boolean NOT NULL DEFAULT false,
    created_at      timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE csat_responses IS 'Customer satisfaction ratings (1-5) given at the end of a conversation.';
CREATE INDEX csat_responses_org_created_idx ON csat_responses (org_id, created_at);
CREATE INDEX csat_responses_bot_id_idx ON csat_responses (bot_id);
CREATE INDEX csat_responses_end_user_id_idx ON csat_responses (end_user_id);

CREATE TABLE customer_health_scores (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id        uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    end_user_id   uuid NOT NULL REFERENCES end_users (id) ON DELETE CASCADE,
    score         smallint NOT NULL CHECK (score BETWEEN 0 AND 100),
    band          text NOT NULL CHECK (band IN ('healthy', 'at_risk', 'critical')),
    -- Weighted inputs: {"csat": n, "recency": n, "volume": n, "sentiment": n}.
    components    jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(components) = 'object'),
    model_version text NOT NULL,
    computed_at   timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE customer_health_scores IS 'Health score history of each contact (0-100, banded).';
CREATE INDEX customer_health_scores_org_id_idx ON customer_health_scores (org_id, computed_at);
CREATE INDEX customer_health_scores_end_user_id_idx ON customer_health_scores (end_user_id, computed_at DESC);

CREATE TABLE churn_predictions (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id        uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    end_user_id   uuid NOT NULL REFERENCES end_users (id) ON DELETE CASCADE,
    probability   real NOT NULL CHECK (probability BETWEEN 0 AND 1),
    risk_level    text NOT NULL CHECK (risk_level IN ('low', 'medium', 'high')),
    horizon_days  integer NOT NULL CHECK (horizon_days > 0),
    model_version text NOT NULL,
    features      jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(features) = 'object'),
    predicted_at  timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE churn_predictions IS 'Predicted probability that a contact churns within a horizon.';
CREATE INDEX churn_predictions_org_id_idx ON churn_predictions (org_id, predicted_at);
CREATE INDEX churn_predictions_end_user_id_idx ON churn_predictions (end_user_id, predicted_at DESC);

CREATE TABLE privacy_requests (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id        uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    end_user_id   uuid REFERENCES end_users (id) ON DELETE SET NULL,
    kind          text NOT NULL CHECK (kind IN ('export', 'erasure')),
    status        text NOT NULL DEFAULT 'received' CHECK (status IN ('received', 'processing', 'completed', 'rejected')),
    requested_via text NOT NULL CHECK (requested_via IN ('api', 'dashboard', 'conversation', 'email')),
    result_uri    text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    completed_at  timestamptz
);
COMMENT ON TABLE privacy_requests IS 'Data subject requests (export, erasure) about a contact.';
CREATE INDEX privacy_requests_org_id_idx ON privacy_requests (org_id);
CREATE INDEX privacy_requests_end_user_id_idx ON privacy_requests (end_user_id);

-- Analytics. Days are UTC calendar days.

CREATE MATERIALIZED VIEW mv_daily_conversations AS
SELECT c.org_id, c.bot_id, c.channel_id,
       (c.started_at AT TIME ZONE 'UTC')::date AS day,
       count(*) AS started,
       count(*) FILTER (WHERE c.status = 'ended') AS ended,
       count(DISTINCT c.end_user_id) AS contacts
  FROM conversations c
 GROUP BY 1, 2, 3, 4;
COMMENT ON MATERIALIZED VIEW mv_daily_conversations IS 'Conversations started per organization, bot, channel and day.';
CREATE UNIQUE INDEX mv_daily_conversations_key ON mv_daily_conversations (org_id, bot_id, channel_id, day);

-- Contained: the bot handled the conversation alone; any handoff request counts against it.
CREATE MATERIALIZED VIEW mv_daily_containment AS
SELECT c.org_id, c.bot_id,
       (c.started_at AT TIME ZONE 'UTC')::date AS day,
       count(*) AS conversations,
       count(*) FILTER (WHERE h.conversation_id IS NOT NULL) AS handed_off,
       count(*) FILTER (WHERE h.conversation_id IS NULL) AS contained,
       round((count(*) FILTER (WHERE h.conversation_id IS NULL))::numeric / count(*), 4) AS containment_rate,
       round((count(*) FILTER (WHERE h.conversation_id IS NOT NULL))::numeric / count(*), 4) AS handoff_rate
  FROM conversations c
  LEFT JOIN (SELECT DISTINCT conversation_id FROM handoffs) h ON h.conversation_id = c.id
 GROUP BY 1, 2, 3;
COMMENT ON MATERIALIZED VIEW mv_daily_containment IS 'Containment and handoff rate per organization, bot and day.';
CREATE UNIQUE INDEX mv_daily_containment_key ON mv_daily_containment (org_id, bot_id, day);

CREATE MATERIALIZED VIEW mv_daily_channel_volume AS
SELECT m.org_id, c.channel_id, ch.kind AS channel_kind,
       (m.created_at AT TIME ZONE 'UTC')::date AS day,
       count(*) FILTER (WHERE m.direction = 'inbound') AS inbound,
       count(*) FILTER (WHERE m.direction = 'outbound') AS outbound,
       count(*) AS total
  FROM messages m
  JOIN conversations c ON c.id = m.conversation_id
  JOIN bot_channels ch ON ch.id = c.channel_id
 GROUP BY 1, 2, 3, 4;
COMMENT ON MATERIALIZED VIEW mv_daily_channel_volume IS 'Message volume per organization, channel and day, by direction.';
CREATE UNIQUE INDEX mv_daily_channel_volume_key ON mv_daily_channel_volume (org_id, channel_id, day);

CREATE MATERIALIZED VIEW mv_usage_by_period AS
SELECT u.org_id, u.metric::text AS metric,
       date_trunc('month', u.occurred_at AT TIME ZONE 'UTC')::date AS period,
       sum(u.quantity)::bigint AS quantity,
       count(*) AS events
  FROM usage_events u
 GROUP BY 1, 2, 3;
COMMENT ON MATERIALIZED VIEW mv_usage_by_period IS 'Metered usage per organization, metric and calendar month (UTC).';
CREATE UNIQUE INDEX mv_usage_by_period_key ON mv_usage_by_period (org_id, metric, period);

CREATE MATERIALIZED VIEW mv_daily_csat AS
SELECT s.org_id, s.bot_id,
       (s.created_at AT TIME ZONE 'UTC')::date AS day,
       count(*) AS responses,
       round(avg(s.rating), 3) AS average_rating,
       round((count(*) FILTER (WHERE s.rating >= 4))::numeric / count(*), 4) AS csat
  FROM csat_responses s
 GROUP BY 1, 2, 3;
COMMENT ON MATERIALIZED VIEW mv_daily_csat IS 'CSAT per organization, bot and day: responses, average, share rating 4-5.';
CREATE UNIQUE INDEX mv_daily_csat_key ON mv_daily_csat (org_id, bot_id, day);

-- The tenant's window on each materialized view. They run as their owner (materialized views
-- have no row-level security), so each filters on the current organization itself, and
-- security_barrier keeps a caller's functions from seeing rows before that filter.
CREATE VIEW analytics_daily_conversations WITH (security_barrier) AS
SELECT * FROM mv_daily_conversations WHERE org_id = botrt_current_org();
COMMENT ON VIEW analytics_daily_conversations IS 'mv_daily_conversations for the current organization.';

CREATE VIEW analytics_daily_containment WITH (security_barrier) AS
SELECT * FROM mv_daily_containment WHERE org_id = botrt_current_org();
COMMENT ON VIEW analytics_daily_containment IS 'mv_daily_containment for the current organization.';

CREATE VIEW analytics_daily_channel_volume WITH (security_barrier) AS
SELECT * FROM mv_daily_channel_volume WHERE org_id = botrt_current_org();
COMMENT ON VIEW analytics_daily_channel_volume IS 'mv_daily_channel_volume for the current organization.';

CREATE VIEW analytics_usage_by_period WITH (security_barrier) AS
SELECT * FROM mv_usage_by_period WHERE org_id = botrt_current_org();
COMMENT ON VIEW analytics_usage_by_period IS 'mv_usage_by_period for the current organization.';

CREATE VIEW analytics_daily_csat WITH (security_barrier) AS
SELECT * FROM mv_daily_csat WHERE org_id = botrt_current_org();
COMMENT ON VIEW analytics_daily_csat IS 'mv_daily_csat for the current organization.';
