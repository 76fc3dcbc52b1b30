-- domain: NLU
-- Natural-language understanding data: intents with example utterances, entities (regex,
-- lookup lists, built-ins) with their values and annotated spans, classifier training runs,
-- and a log of predictions for review and retraining.

CREATE TABLE nlu_intents (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id      uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    bot_id      uuid NOT NULL REFERENCES bots (id) ON DELETE CASCADE,
    name        text NOT NULL CHECK (name ~ '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,62}$'),
    description text NOT NULL DEFAULT '',
    -- The intent given when no other reaches its threshold.
    is_fallback boolean NOT NULL DEFAULT false,
    -- Overrides the bot's nlu_threshold for this intent.
    threshold   real CHECK (threshold BETWEEN 0 AND 1),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (bot_id, name)
);
COMMENT ON TABLE nlu_intents IS 'Intents a bot recognizes; one may be the fallback.';
CREATE INDEX nlu_intents_org_id_idx ON nlu_intents (org_id);
CREATE UNIQUE INDEX nlu_intents_fallback_key ON nlu_intents (bot_id) WHERE is_fallback;
CREATE TRIGGER nlu_intents_touch BEFORE UPDATE ON nlu_intents
    FOR EACH ROW EXECUTE FUNCTION botrt_touch_updated_at();

CREATE TABLE nlu_utterances (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id     uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    intent_id  uuid NOT NULL REFERENCES nlu_intents (id) ON DELETE CASCADE,
    text       text NOT NULL CHECK (length(text) > 0),
    language   text NOT NULL DEFAULT 'en',
    source     text NOT NULL DEFAULT 'manual' CHECK (source IN ('manual', 'bot_file', 'imported', 'conversation')),
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (intent_id, text)
);
COMMENT ON TABLE nlu_utterances IS 'Example utterances that train an intent.';
CREATE INDEX nlu_utterances_org_id_idx ON nlu_utterances (org_id);

CREATE TABLE nlu_entities (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id     uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    bot_id     uuid NOT NULL REFERENCES bots (id) ON DELETE CASCADE,
    name       text NOT NULL CHECK (name ~ '^[A-Za-z_][A-Za-z0-9_]{0,62}$'),
    kind       text NOT NULL CHECK (kind IN ('regex', 'list', 'builtin')),
    -- regex: {"pattern": "..."}; builtin: {"builtin": "number"|"email"|"phone"|"date"};
    -- list: options such as {"fuzzy": bool}, the values live in nlu_entity_values.
    config     jsonb NOT NULL DEFAULT '{}' CHECK (
                   jsonb_typeof(config) = 'object'
                   AND CASE kind
                       WHEN 'regex' THEN jsonb_typeof(config -> 'pattern') IS NOT DISTINCT FROM 'string'
                       WHEN 'builtin' THEN coalesce(config ->> 'builtin', '') IN ('number', 'email', 'phone', 'date')
                       ELSE true
                   END),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (bot_id, name)
);
COMMENT ON TABLE nlu_entities IS 'Entity extractors: regex, lookup list or built-in (number, email, phone, date).';
CREATE INDEX nlu_entities_org_id_idx ON nlu_entities (org_id);
CREATE TRIGGER nlu_entities_touch BEFORE UPDATE ON nlu_entities
    FOR EACH ROW EXECUTE FUNCTION botrt_touch_updated_at();

CREATE TABLE nlu_entity_values (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id     uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    entity_id  uuid NOT NULL REFERENCES nlu_entities (id) ON DELETE CASCADE,
    value      text NOT NULL,
    synonyms   text[] NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (entity_id, value)
);
COMMENT ON TABLE nlu_entity_values IS 'Canonical values of a lookup-list entity and their synonyms.';
CREATE INDEX nlu_entity_values_org_id_idx ON nlu_entity_values (org_id);

CREATE TABLE nlu_utterance_entities (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id       uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    utterance_id uuid NOT NULL REFERENCES nlu_utterances (id) ON DELETE CASCADE,
    entity_id    uuid NOT NULL REFERENCES nlu_entities (id) ON DELETE CASCADE,
    start_offset integer NOT NULL CHECK (start_offset >= 0),
    end_offset   integer NOT NULL,
    value        text,
    CHECK (end_offset > start_offset)
);
COMMENT ON TABLE nlu_utterance_entities IS 'Entity spans annotated in training utterances.';
CREATE INDEX nlu_utterance_entities_org_id_idx ON nlu_utterance_entities (org_id);
CREATE INDEX nlu_utterance_entities_utterance_id_idx ON nlu_utterance_entities (utterance_id);
CREATE INDEX nlu_utterance_entities_entity_id_idx ON nlu_utterance_entities (entity_id);

CREATE TABLE nlu_training_runs (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id       uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    bot_id       uuid NOT NULL REFERENCES bots (id) ON DELETE CASCADE,
    -- lexical: character n-grams, offline; embedding: needs an embedder installed.
    classifier   text NOT NULL CHECK (classifier IN ('lexical', 'embedding')),
    status       text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    -- sha256 of the training data, so unchanged data is not retrained.
    data_sha256  bytea CHECK (octet_length(data_sha256) = 32),
    -- Evaluation: {"accuracy": n, "f1": n, "per_intent": {...}}.
    metrics      jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metrics) = 'object'),
    artifact_uri text,
    error        text,
    queued_at    timestamptz NOT NULL DEFAULT now(),
    started_at   timestamptz,
    finished_at  timestamptz
);
COMMENT ON TABLE nlu_training_runs IS 'Classifier training runs with evaluation metrics.';
CREATE INDEX nlu_training_runs_org_id_idx ON nlu_training_runs (org_id);
CREATE INDEX nlu_training_runs_bot_id_idx ON nlu_training_runs (bot_id, queued_at DESC);

CREATE TABLE nlu_predictions (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id          uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    bot_id          uuid NOT NULL REFERENCES bots (id) ON DELETE CASCADE,
    conversation_id uuid REFERENCES conversations (id) ON DELETE CASCADE,
    -- The message classified. No foreign key: messages is partitioned and retired by month.
    message_id      uuid,
    training_run_id uuid REFERENCES nlu_training_runs (id) ON DELETE SET NULL,
    text            text NOT NULL,
    intent_id       uuid REFERENCES nlu_intents (id) ON DELETE SET NULL,
    intent_name     text,
    confidence      real CHECK (confidence BETWEEN 0 AND 1),
    -- Extracted entities: [{"entity", "value", "start", "end"}].
    entities        jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(entities) = 'array'),
    -- Runner-up intents: [{"intent", "confidence"}].
    ranking         jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(ranking) = 'array'),
    created_at      timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE nlu_predictions IS 'What the classifier predicted for each message, for review and retraining.';
CREATE INDEX nlu_predictions_org_created_idx ON nlu_predictions (org_id, created_at);
CREATE INDEX nlu_predictions_bot_id_idx ON nlu_predictions (bot_id, created_at);
CREATE INDEX nlu_predictions_conversation_id_idx ON nlu_predictions (conversation_id);
CREATE INDEX nlu_predictions_training_run_id_idx ON nlu_predictions (training_run_id);
CREATE INDEX nlu_predictions_intent_id_idx ON nlu_predictions (intent_id);
