-- domain: AI agents
-- LLM agents: the OpenAI-compatible endpoints they call, versioned prompts, the agents of a bot
-- and the routes between them (a router agent hands to specialists), and every run with its
-- steps (LLM calls, tool calls, routing), which is where tokens are counted. The tools an agent
-- may call and their executions are in 082_tools.sql. Numbered after 080 because runs belong
-- to conversations.

CREATE TABLE llm_endpoints (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id             uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name               text NOT NULL,
    -- Every supported server speaks the chat-completions API; the flavour tunes quirks.
    flavour            text NOT NULL DEFAULT 'openai'
                       CHECK (flavour IN ('openai', 'azure_openai', 'vllm', 'ollama', 'llamacpp', 'other')),
    base_url           text NOT NULL CHECK (base_url ~ '^https?://'),
    api_key_ciphertext bytea,
    default_model      text NOT NULL,
    -- Extra request settings: {"headers": {...}, "timeout_s": n, ...}.
    settings           jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(settings) = 'object'),
    status             text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, name)
);
COMMENT ON TABLE llm_endpoints IS 'OpenAI-compatible chat-completions endpoints (OpenAI, vLLM, Ollama, llama.cpp).';
CREATE TRIGGER llm_endpoints_touch BEFORE UPDATE ON llm_endpoints
    FOR EACH ROW EXECUTE FUNCTION botrt_touch_updated_at();

CREATE TABLE prompts (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id      uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    -- NULL: shared by every bot of the organization.
    bot_id      uuid REFERENCES bots (id) ON DELETE CASCADE,
    name        text NOT NULL,
    description text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE NULLS NOT DISTINCT (org_id, bot_id, name)
);
COMMENT ON TABLE prompts IS 'Named prompts (system prompts, templates) shared by agents.';
CREATE INDEX prompts_bot_id_idx ON prompts (bot_id);
CREATE TRIGGER prompts_touch BEFORE UPDATE ON prompts
    FOR EACH ROW EXECUTE FUNCTION botrt_touch_updated_at();

CREATE TABLE prompt_versions (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id       uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    prompt_id    uuid NOT NULL REFERENCES prompts (id) ON DELETE CASCADE,
    version      integer NOT NULL CHECK (version > 0),
    template     text NOT NULL,
    -- Names of the variables the template expects: a JSON array of strings.
    variables    jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(variables) = 'array'),
    -- Sampling overrides: {"temperature": n, "top_p": n, "max_tokens": n}.
    model_params jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(model_params) = 'object'),
    status       text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'active', 'archived')),
    created_by   uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (prompt_id, version)
);
COMMENT ON TABLE prompt_versions IS 'Immutable versions of a prompt; one is active.';
CREATE INDEX prompt_versions_org_id_idx ON prompt_versions (org_id);
CREATE INDEX prompt_versions_created_by_idx ON prompt_versions (created_by);
CREATE UNIQUE INDEX prompt_versions_active_key ON prompt_versions (prompt_id) WHERE status = 'active';

CREATE TABLE agents (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id              uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    bot_id              uuid NOT NULL REFERENCES bots (id) ON DELETE CASCADE,
    name                text NOT NULL CHECK (name ~ '^[A-Za-z0-9_][A-Za-z0-9_-]{0,62}$'),
    role                text NOT NULL DEFAULT 'standalone' CHECK (role IN ('router', 'specialist', 'standalone')),
    -- What a router reads to decide whether to hand to this agent.
    description         text NOT NULL DEFAULT '',
    llm_endpoint_id     uuid REFERENCES llm_endpoints (id) ON DELETE SET NULL,
    model               text,
    prompt_version_id   uuid REFERENCES prompt_versions (id) ON DELETE SET NULL,
    -- Used when no prompt version is linked.
    system_prompt       text,
    temperature         real NOT NULL DEFAULT 0.2 CHECK (temperature BETWEEN 0 AND 2),
    max_steps           integer NOT NULL DEFAULT 6 CHECK (max_steps BETWEEN 1 AND 50),
    max_tokens_per_turn integer NOT NULL DEFAULT 4000 CHECK (max_tokens_per_turn > 0),
    config              jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(config) = 'object'),
    status              text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now(),
    UNIQUE (bot_id, name)
);
COMMENT ON TABLE agents IS 'LLM agents of a bot, with model, prompt and per-turn step and token limits.';
CREATE INDEX agents_org_id_idx ON agents (org_id);
CREATE INDEX agents_llm_endpoint_id_idx ON agents (llm_endpoint_id);
CREATE INDEX agents_prompt_version_id_idx ON agents (prompt_version_id);
CREATE TRIGGER agents_touch BEFORE UPDATE ON agents
    FOR EACH ROW EXECUTE FUNCTION botrt_touch_updated_at();

CREATE TABLE agent_routes (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id        uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    from_agent_id uuid NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    to_agent_id   uuid NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    -- Optional deterministic rule tried before the router asks its model:
    -- {"intent": "billing"} or {"slot": "topic", "equals": "refund"}.
    condition     jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(condition) = 'object'),
    priority      integer NOT NULL DEFAULT 100,
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (from_agent_id, to_agent_id),
    CHECK (from_agent_id <> to_agent_id)
);
COMMENT ON TABLE agent_routes IS 'Multi-agent routing: which agents a router may hand a turn to.';
CREATE INDEX agent_routes_org_id_idx ON agent_routes (org_id);
CREATE INDEX agent_routes_to_agent_id_idx ON agent_routes (to_agent_id);

CREATE TABLE agent_runs (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id            uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    agent_id          uuid NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    conversation_id   uuid NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    -- The router run that handed this turn over, for multi-agent traces.
    parent_run_id     uuid REFERENCES agent_runs (id) ON DELETE SET NULL,
    status            text NOT NULL DEFAULT 'running'
                      CHECK (status IN ('running', 'succeeded', 'failed', 'cancelled', 'limit_reached')),
    model             text NOT NULL,
    steps             integer NOT NULL DEFAULT 0 CHECK (steps >= 0),
    prompt_tokens     integer NOT NULL DEFAULT 0 CHECK (prompt_tokens >= 0),
    completion_tokens integer NOT NULL DEFAULT 0 CHECK (completion_tokens >= 0),
    error             text,
    started_at        timestamptz NOT NULL DEFAULT now(),
    finished_at       timestamptz,
    CHECK ((status = 'running') = (finished_at IS NULL))
);
COMMENT ON TABLE agent_runs IS 'One agent turn: the steps it took and the tokens it used.';
CREATE INDEX agent_runs_org_started_idx ON agent_runs (org_id, started_at);
CREATE INDEX agent_runs_agent_id_idx ON agent_runs (agent_id);
CREATE INDEX agent_runs_conversation_id_idx ON agent_runs (conversation_id, started_at);
CREATE INDEX agent_runs_parent_run_id_idx ON agent_runs (parent_run_id);

CREATE TABLE agent_run_steps (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id            uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    run_id            uuid NOT NULL REFERENCES agent_runs (id) ON DELETE CASCADE,
    step_no           integer NOT NULL CHECK (step_no > 0),
    kind              text NOT NULL CHECK (kind IN ('llm_call', 'tool_call', 'route', 'handoff', 'final')),
    status            text NOT NULL CHECK (status IN ('succeeded', 'failed', 'timed_out')),
    -- The chat-completions request and response (messages trimmed to the history window).
    request           jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(request) = 'object'),
    response          jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(response) = 'object'),
    prompt_tokens     integer NOT NULL DEFAULT 0 CHECK (prompt_tokens >= 0),
    completion_tokens integer NOT NULL DEFAULT 0 CHECK (completion_tokens >= 0),
    latency_ms        integer CHECK (latency_ms >= 0),
    created_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (run_id, step_no)
);
COMMENT ON TABLE agent_run_steps IS 'The steps of an agent run: LLM calls, tool calls, routing, handoff.';
CREATE INDEX agent_run_steps_org_id_idx ON agent_run_steps (org_id);

CREATE TABLE agent_memories (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id      uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    agent_id    uuid NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    end_user_id uuid NOT NULL REFERENCES end_users (id) ON DELETE CASCADE,
    key         text NOT NULL,
    value       jsonb NOT NULL CHECK (jsonb_typeof(value) <> 'null'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz,
    UNIQUE (agent_id, end_user_id, key)
);
COMMENT ON TABLE agent_memories IS 'Facts an agent remembers about a contact across conversations.';
CREATE INDEX agent_memories_org_id_idx ON agent_memories (org_id);
CREATE INDEX agent_memories_end_user_id_idx ON agent_memories (end_user_id);
CREATE TRIGGER agent_memories_touch BEFORE UPDATE ON agent_memories
    FOR EACH ROW EXECUTE FUNCTION botrt_touch_updated_at();
