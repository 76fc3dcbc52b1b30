-- domain: Tools and functions
-- Tools an agent can call: HTTP tools defined in the database (templated requests) and the
-- built-ins (knowledge search, handoff, set slot), their encrypted credentials, which agent may
-- use which tool, and a log of every execution.

CREATE TABLE tool_definitions (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id       uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    -- NULL: available to every bot of the organization.
    bot_id       uuid REFERENCES bots (id) ON DELETE CASCADE,
    -- The function name the model sees.
    name         text NOT NULL CHECK (name ~ '^[A-Za-z_][A-Za-z0-9_-]{0,63}$'),
    description  text NOT NULL,
    kind         text NOT NULL CHECK (kind IN ('http', 'builtin')),
    builtin_name text CHECK (builtin_name IN ('knowledge_search', 'handoff', 'set_slot', 'end_conversation')),
    -- JSON Schema of the arguments, as sent to the model: always an object schema.
    parameters   jsonb NOT NULL DEFAULT '{"type": "object", "properties": {}}'
                 CHECK (jsonb_typeof(parameters) = 'object' AND parameters ->> 'type' IS NOT DISTINCT FROM 'object'),
    -- The templated request of an HTTP tool: {"method", "url", "headers"?, "body"?}.
    http_config  jsonb CHECK (http_config IS NULL OR (
                     jsonb_typeof(http_config) = 'object'
                     AND coalesce(http_config ->> 'method', '') IN ('GET', 'POST', 'PUT', 'PATCH', 'DELETE')
                     AND jsonb_typeof(http_config -> 'url') IS NOT DISTINCT FROM 'string'
                     AND coalesce(jsonb_typeof(http_config -> 'headers'), 'object') = 'object')),
    timeout_ms   integer NOT NULL DEFAULT 10000 CHECK (timeout_ms BETWEEN 1 AND 120000),
    status       text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE NULLS NOT DISTINCT (org_id, bot_id, name),
    CHECK ((kind = 'http') = (http_config IS NOT NULL)),
    CHECK ((kind = 'builtin') = (builtin_name IS NOT NULL))
);
COMMENT ON TABLE tool_definitions IS 'Functions agents can call: templated HTTP requests or built-ins.';
CREATE INDEX tool_definitions_bot_id_idx ON tool_definitions (bot_id);
CREATE TRIGGER tool_definitions_touch BEFORE UPDATE ON tool_definitions
    FOR EACH ROW EXECUTE FUNCTION botrt_touch_updated_at();

CREATE TABLE tool_credentials (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id            uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    tool_id           uuid NOT NULL REFERENCES tool_definitions (id) ON DELETE CASCADE,
    -- NULL: encrypted with the key derived from BOTRT_SECRET_KEY itself.
    encryption_key_id uuid REFERENCES encryption_keys (id) ON DELETE RESTRICT,
    name              text NOT NULL,
    kind              text NOT NULL CHECK (kind IN ('api_key', 'bearer', 'basic', 'oauth2_client')),
    -- Where the secret goes in the request: {"in": "header"|"query", "name": "..."}.
    placement         jsonb NOT NULL DEFAULT '{"in": "header", "name": "Authorization"}'
                      CHECK (jsonb_typeof(placement) = 'object'
                             AND coalesce(placement ->> 'in', '') IN ('header', 'query')
                             AND jsonb_typeof(placement -> 'name') IS NOT DISTINCT FROM 'string'),
    ciphertext        bytea NOT NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    rotated_at        timestamptz,
    expires_at        timestamptz,
    UNIQUE (tool_id, name)
);
COMMENT ON TABLE tool_credentials IS 'Encrypted secrets an HTTP tool sends (API keys, bearer tokens).';
CREATE INDEX tool_credentials_org_id_idx ON tool_credentials (org_id);
CREATE INDEX tool_credentials_encryption_key_id_idx ON tool_credentials (encryption_key_id);

CREATE TABLE agent_tools (
    org_id     uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    agent_id   uuid NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    tool_id    uuid NOT NULL REFERENCES tool_definitions (id) ON DELETE CASCADE,
    -- Per-agent overrides: {"description": "...", "requires_confirmation": bool}.
    config     jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(config) = 'object'),
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (agent_id, tool_id)
);
COMMENT ON TABLE agent_tools IS 'Which tools each agent may call.';
CREATE INDEX agent_tools_org_id_idx ON agent_tools (org_id);
CREATE INDEX agent_tools_tool_id_idx ON agent_tools (tool_id);

CREATE TABLE tool_executions (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id            uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    tool_id           uuid NOT NULL REFERENCES tool_definitions (id) ON DELETE CASCADE,
    -- Set when an agent called the tool; NULL when a flow's http-call node did.
    agent_run_step_id uuid REFERENCES agent_run_steps (id) ON DELETE SET NULL,
    conversation_id   uuid REFERENCES conversations (id) ON DELETE CASCADE,
    status            text NOT NULL DEFAULT 'running'
                      CHECK (status IN ('running', 'succeeded', 'failed', 'timed_out')),
    arguments         jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(arguments) = 'object'),
    -- What the model was given back: {"status": n, "body": ...} or a built-in's result object.
    result            jsonb CHECK (result IS NULL OR jsonb_typeof(result) = 'object'),
    http_status       integer CHECK (http_status BETWEEN 100 AND 599),
    error             text,
    duration_ms       integer CHECK (duration_ms >= 0),
    started_at        timestamptz NOT NULL DEFAULT now(),
    finished_at       timestamptz,
    CHECK ((status = 'running') = (finished_at IS NULL))
);
COMMENT ON TABLE tool_executions IS 'Every tool call with its arguments, result and timing.';
CREATE INDEX tool_executions_org_started_idx ON tool_executions (org_id, started_at);
CREATE INDEX tool_executions_tool_id_idx ON tool_executions (tool_id);
CREATE INDEX tool_executions_agent_run_step_id_idx ON tool_executions (agent_run_step_id);
CREATE INDEX tool_executions_conversation_id_idx ON tool_executions (conversation_id);
