-- domain: Enterprise security
-- Single sign-on, SCIM provisioning, IP allow lists, data-retention policies, per-tenant
-- encryption keys and security settings. The audit trail is in 021_audit.sql.

CREATE TABLE sso_providers (
    id                       uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id                   uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    kind                     text NOT NULL CHECK (kind IN ('saml', 'oidc')),
    name                     text NOT NULL,
    -- Non-secret protocol settings; the required keys depend on the protocol.
    config                   jsonb NOT NULL CHECK (
                                 jsonb_typeof(config) = 'object'
                                 AND CASE kind
                                     WHEN 'oidc' THEN config ?& ARRAY['issuer', 'client_id']
                                     WHEN 'saml' THEN config ?& ARRAY['entity_id', 'sso_url', 'certificate']
                                 END),
    client_secret_ciphertext bytea,
    -- Users with these email domains must sign in through this provider when enforce is set.
    email_domains            text[] NOT NULL DEFAULT '{}',
    enforce                  boolean NOT NULL DEFAULT false,
    jit_provisioning         boolean NOT NULL DEFAULT true,
    default_role             text NOT NULL DEFAULT 'viewer'
                             CHECK (default_role IN ('admin', 'developer', 'agent', 'viewer')),
    status                   text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    created_at               timestamptz NOT NULL DEFAULT now(),
    updated_at               timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, name)
);
COMMENT ON TABLE sso_providers IS 'SAML or OIDC identity providers an organization signs in with.';
CREATE TRIGGER sso_providers_touch BEFORE UPDATE ON sso_providers
    FOR EACH ROW EXECUTE FUNCTION botrt_touch_updated_at();

CREATE TABLE sso_identities (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id        uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    provider_id   uuid NOT NULL REFERENCES sso_providers (id) ON DELETE CASCADE,
    user_id       uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The provider's stable subject (OIDC sub, SAML NameID).
    subject       text NOT NULL,
    email         text,
    last_login_at timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (provider_id, subject)
);
COMMENT ON TABLE sso_identities IS 'Links a user to their subject at an organization''s SSO provider.';
CREATE INDEX sso_identities_org_id_idx ON sso_identities (org_id);
CREATE INDEX sso_identities_user_id_idx ON sso_identities (user_id);

CREATE TABLE scim_tokens (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id       uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    provider_id  uuid REFERENCES sso_providers (id) ON DELETE CASCADE,
    token_hash   bytea NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);
COMMENT ON TABLE scim_tokens IS 'Bearer tokens (hashed) an identity provider uses to provision users by SCIM.';
CREATE INDEX scim_tokens_org_id_idx ON scim_tokens (org_id);
CREATE INDEX scim_tokens_provider_id_idx ON scim_tokens (provider_id);

CREATE TABLE ip_allow_lists (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id     uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name       text NOT NULL,
    applies_to text NOT NULL DEFAULT 'all' CHECK (applies_to IN ('api', 'dashboard', 'all')),
    enabled    boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, name)
);
COMMENT ON TABLE ip_allow_lists IS 'Named IP allow lists restricting API or dashboard access.';
CREATE TRIGGER ip_allow_lists_touch BEFORE UPDATE ON ip_allow_lists
    FOR EACH ROW EXECUTE FUNCTION botrt_touch_updated_at();

CREATE TABLE ip_allow_list_entries (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id      uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    list_id     uuid NOT NULL REFERENCES ip_allow_lists (id) ON DELETE CASCADE,
    cidr        cidr NOT NULL,
    description text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (list_id, cidr)
);
COMMENT ON TABLE ip_allow_list_entries IS 'CIDR ranges of an IP allow list.';
CREATE INDEX ip_allow_list_entries_org_id_idx ON ip_allow_list_entries (org_id);

-- Global: how long each kind of time-partitioned data is kept when an organization has no policy.
CREATE TABLE retention_defaults (
    resource       text PRIMARY KEY CHECK (resource ~ '^[a-z][a-z_]*$'),
    retention_days integer NOT NULL CHECK (retention_days BETWEEN 1 AND 3650),
    description    text NOT NULL
);
COMMENT ON TABLE retention_defaults IS 'Default retention per kind of time-partitioned data (global).';
INSERT INTO retention_defaults (resource, retention_days, description) VALUES
    ('messages', 365, 'Conversation messages'),
    ('inbound_events', 30, 'Raw webhook payloads as received'),
    ('usage_events', 400, 'Metered usage, kept past a year for invoice disputes'),
    ('audit_logs', 730, 'Audit trail'),
    ('voice_transcripts', 365, 'Speech-to-text transcripts of calls');

CREATE TABLE data_retention_policies (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id         uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    resource       text NOT NULL REFERENCES retention_defaults (resource),
    retention_days integer NOT NULL CHECK (retention_days BETWEEN 1 AND 3650),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, resource)
);
COMMENT ON TABLE data_retention_policies IS 'An organization''s retention per kind of data, overriding retention_defaults.';
CREATE INDEX data_retention_policies_resource_idx ON data_retention_policies (resource);
CREATE TRIGGER data_retention_policies_touch BEFORE UPDATE ON data_retention_policies
    FOR EACH ROW EXECUTE FUNCTION botrt_touch_updated_at();

CREATE TABLE encryption_keys (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id      uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    purpose     text NOT NULL CHECK (purpose IN ('channel_credentials', 'tool_credentials', 'llm_credentials', 'pii')),
    version     integer NOT NULL CHECK (version > 0),
    algorithm   text NOT NULL DEFAULT 'aes-256-gcm' CHECK (algorithm IN ('aes-256-gcm')),
    -- The data key, itself encrypted with the key-encryption key derived from BOTRT_SECRET_KEY.
    wrapped_key bytea NOT NULL,
    status      text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'retired', 'destroyed')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    retired_at  timestamptz,
    UNIQUE (org_id, purpose, version)
);
COMMENT ON TABLE encryption_keys IS 'Per-tenant data keys (envelope encryption) for secrets stored in the database.';
CREATE UNIQUE INDEX encryption_keys_active_key ON encryption_keys (org_id, purpose) WHERE status = 'active';

CREATE TABLE security_settings (
    org_id                 uuid PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
    require_mfa            boolean NOT NULL DEFAULT false,
    session_ttl_minutes    integer NOT NULL DEFAULT 720 CHECK (session_ttl_minutes BETWEEN 5 AND 43200),
    password_min_length    integer NOT NULL DEFAULT 12 CHECK (password_min_length BETWEEN 8 AND 128),
    allowed_email_domains  text[] NOT NULL DEFAULT '{}',
    -- Where PII is masked before storage: {"messages": bool, "transcripts": bool, "logs": bool}.
    pii_redaction          jsonb NOT NULL DEFAULT '{"messages": false, "transcripts": false, "logs": true}'
                           CHECK (jsonb_typeof(pii_redaction) = 'object'
                                  AND pii_redaction ?& ARRAY['messages', 'transcripts', 'logs']),
    created_at             timestamptz NOT NULL DEFAULT now(),
    updated_at             timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE security_settings IS 'Organization security policy: MFA, session lifetime, password rules, PII redaction.';
CREATE TRIGGER security_settings_touch BEFORE UPDATE ON security_settings
    FOR EACH ROW EXECUTE FUNCTION botrt_touch_updated_at();
