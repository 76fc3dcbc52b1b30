-- domain: Fine-tuning
-- Datasets curated from conversations, their examples, fine-tuning jobs run at an
-- OpenAI-compatible provider with their event log, and the resulting models.

CREATE TABLE fine_tuning_datasets (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id        uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    bot_id        uuid REFERENCES bots (id) ON DELETE SET NULL,
    name          text NOT NULL,
    task          text NOT NULL CHECK (task IN ('chat', 'classification')),
    description   text NOT NULL DEFAULT '',
    status        text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'ready', 'archived')),
    example_count integer NOT NULL DEFAULT 0 CHECK (example_count >= 0),
    created_by    uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, name)
);
COMMENT ON TABLE fine_tuning_datasets IS 'Training datasets for fine-tuning a model.';
CREATE INDEX fine_tuning_datasets_bot_id_idx ON fine_tuning_datasets (bot_id);
CREATE INDEX fine_tuning_datasets_created_by_idx ON fine_tuning_datasets (created_by);
CREATE TRIGGER fine_tuning_datasets_touch BEFORE UPDATE ON fine_tuning_datasets
    FOR EACH ROW EXECUTE FUNCTION botrt_touch_updated_at();

CREATE TABLE fine_tuning_examples (
    id                     uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id                 uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    dataset_id             uuid NOT NULL REFERENCES fine_tuning_datasets (id) ON DELETE CASCADE,
    split                  text NOT NULL DEFAULT 'train' CHECK (split IN ('train', 'validation', 'test')),
    -- chat: {"messages": [{"role", "content"}, ...]}; classification: {"text": "...", "label": "..."}.
    example                jsonb NOT NULL CHECK (
                               jsonb_typeof(example) = 'object'
                               AND (jsonb_typeof(example -> 'messages') IS NOT DISTINCT FROM 'array'
                                    OR (jsonb_typeof(example -> 'text') IS NOT DISTINCT FROM 'string'
                                        AND jsonb_typeof(example -> 'label') IS NOT DISTINCT FROM 'string'))),
    source_conversation_id uuid REFERENCES conversations (id) ON DELETE SET NULL,
    created_at             timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE fine_tuning_examples IS 'Examples of a dataset: chat transcripts or labelled texts.';
CREATE INDEX fine_tuning_examples_org_id_idx ON fine_tuning_examples (org_id);
CREATE INDEX fine_tuning_examples_dataset_id_idx ON fine_tuning_examples (dataset_id, split);
CREATE INDEX fine_tuning_examples_source_conversation_id_idx ON fine_tuning_examples (source_conversation_id);

CREATE TABLE fine_tuning_jobs (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id          uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    dataset_id      uuid NOT NULL REFERENCES fine_tuning_datasets (id) ON DELETE RESTRICT,
    llm_endpoint_id uuid REFERENCES llm_endpoints (id) ON DELETE SET NULL,
    base_model      text NOT NULL,
    -- {"n_epochs": n, "learning_rate_multiplier": n, "batch_size": n}.
    hyperparameters jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(hyperparameters) = 'object'),
    status          text NOT NULL DEFAULT 'queued'
                    CHECK (status IN ('queued', 'validating', 'running', 'succeeded', 'failed', 'cancelled')),
    external_job_id text,
    metrics         jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metrics) = 'object'),
    error           text,
    created_by      uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    started_at      timestamptz,
    finished_at     timestamptz
);
COMMENT ON TABLE fine_tuning_jobs IS 'Fine-tuning jobs submitted to a provider, with status and metrics.';
CREATE INDEX fine_tuning_jobs_org_id_idx ON fine_tuning_jobs (org_id);
CREATE INDEX fine_tuning_jobs_dataset_id_idx ON fine_tuning_jobs (dataset_id);
CREATE INDEX fine_tuning_jobs_llm_endpoint_id_idx ON fine_tuning_jobs (llm_endpoint_id);
CREATE INDEX fine_tuning_jobs_created_by_idx ON fine_tuning_jobs (created_by);

CREATE TABLE fine_tuning_job_events (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id     uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    job_id     uuid NOT NULL REFERENCES fine_tuning_jobs (id) ON DELETE CASCADE,
    level      text NOT NULL DEFAULT 'info' CHECK (level IN ('info', 'warning', 'error')),
    message    text NOT NULL,
    data       jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(data) = 'object'),
    created_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE fine_tuning_job_events IS 'Progress events of a fine-tuning job (loss, step, messages).';
CREATE INDEX fine_tuning_job_events_org_id_idx ON fine_tuning_job_events (org_id);
CREATE INDEX fine_tuning_job_events_job_id_idx ON fine_tuning_job_events (job_id, created_at);

CREATE TABLE fine_tuned_models (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id            uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    job_id            uuid REFERENCES fine_tuning_jobs (id) ON DELETE SET NULL,
    llm_endpoint_id   uuid REFERENCES llm_endpoints (id) ON DELETE SET NULL,
    name              text NOT NULL,
    base_model        text NOT NULL,
    -- The model name to send in chat-completions requests.
    provider_model_id text NOT NULL,
    status            text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'retired')),
    created_at        timestamptz NOT NULL DEFAULT now(),
    retired_at        timestamptz,
    UNIQUE (org_id, name)
);
COMMENT ON TABLE fine_tuned_models IS 'Models produced by fine-tuning jobs, usable by agents.';
CREATE INDEX fine_tuned_models_job_id_idx ON fine_tuned_models (job_id);
CREATE INDEX fine_tuned_models_llm_endpoint_id_idx ON fine_tuned_models (llm_endpoint_id);
