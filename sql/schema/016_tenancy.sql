-- domain: Organizations and tenancy
-- Who belongs to an organization and how it presents itself: memberships with roles,
-- invitations, teams, white-label settings, custom domains and API keys (stored hashed).

CREATE TABLE memberships (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id     uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       text NOT NULL CHECK (role IN ('owner', 'admin', 'developer', 'agent', 'viewer')),
    status     text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, user_id)
);
COMMENT ON TABLE memberships IS 'A user''s role in an organization.';
CREATE INDEX memberships_user_id_idx ON memberships (user_id);
CREATE TRIGGER memberships_touch BEFORE UPDATE ON memberships
    FOR EACH ROW EXECUTE FUNCTION botrt_touch_updated_at();

CREATE TABLE invitations (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id           uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    email            text NOT NULL CHECK (email ~ '^[^@\s]+@[^@\s]+$'),
    role             text NOT NULL CHECK (role IN ('owner', 'admin', 'developer', 'agent', 'viewer')),
    token_hash       bytea NOT NULL UNIQUE CHECK (octet_length(token_hash) = 32),
    status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'accepted', 'revoked', 'expired')),
    invited_by       uuid REFERENCES users (id) ON DELETE SET NULL,
    accepted_user_id uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    expires_at       timestamptz NOT NULL,
    accepted_at      timestamptz,
    CHECK ((status = 'accepted') = (accepted_at IS NOT NULL))
);
COMMENT ON TABLE invitations IS 'Invitations to join an organization, by emailed token.';
CREATE INDEX invitations_org_id_idx ON invitations (org_id);
CREATE INDEX invitations_invited_by_idx ON invitations (invited_by);
CREATE INDEX invitations_accepted_user_id_idx ON invitations (accepted_user_id);
CREATE UNIQUE INDEX invitations_pending_key ON invitations (org_id, lower(email)) WHERE status = 'pending';

CREATE TABLE teams (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id      uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name        text NOT NULL,
    description text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, name)
);
COMMENT ON TABLE teams IS 'Groups of members, e.g. the live agents a handoff is routed to.';

CREATE TABLE team_members (
    org_id        uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    team_id       uuid NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    membership_id uuid NOT NULL REFERENCES memberships (id) ON DELETE CASCADE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (team_id, membership_id)
);
COMMENT ON TABLE team_members IS 'Which memberships belong to which team.';
CREATE INDEX team_members_org_id_idx ON team_members (org_id);
CREATE INDEX team_members_membership_id_idx ON team_members (membership_id);

CREATE TABLE white_label_settings (
    org_id          uuid PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
    brand_name      text,
    logo_url        text CHECK (logo_url ~ '^https://'),
    favicon_url     text CHECK (favicon_url ~ '^https://'),
    primary_color   text CHECK (primary_color ~ '^#[0-9a-fA-F]{6}$'),
    accent_color    text CHECK (accent_color ~ '^#[0-9a-fA-F]{6}$'),
    support_email   text CHECK (support_email ~ '^[^@\s]+@[^@\s]+$'),
    email_from_name text,
    hide_powered_by boolean NOT NULL DEFAULT false,
    -- Extra CSS variables for the widget and dashboard: a flat object of strings.
    theme           jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(theme) = 'object'),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE white_label_settings IS 'Branding an organization puts on the widget, dashboard and emails.';
CREATE TRIGGER white_label_settings_touch BEFORE UPDATE ON white_label_settings
    FOR EACH ROW EXECUTE FUNCTION botrt_touch_updated_at();

CREATE TABLE custom_domains (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id             uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    hostname           text NOT NULL UNIQUE CHECK (hostname ~ '^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$'),
    purpose            text NOT NULL CHECK (purpose IN ('widget', 'dashboard', 'api')),
    status             text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'verified', 'failed')),
    verification_token text NOT NULL,
    verified_at        timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE custom_domains IS 'White-label hostnames an organization serves the widget or dashboard on.';
CREATE INDEX custom_domains_org_id_idx ON custom_domains (org_id);

CREATE TABLE api_keys (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id       uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name         text NOT NULL,
    -- The first characters of the key, shown in the dashboard to tell keys apart.
    prefix       text NOT NULL CHECK (length(prefix) BETWEEN 4 AND 16),
    -- sha256 of the whole key; the key itself is shown once and never stored.
    key_hash     bytea NOT NULL UNIQUE CHECK (octet_length(key_hash) = 32),
    scopes       text[] NOT NULL DEFAULT '{}' CHECK (scopes <@ ARRAY[
                     'admin', 'bots:read', 'bots:write', 'conversations:read', 'conversations:write',
                     'knowledge:read', 'knowledge:write', 'analytics:read', 'billing:read',
                     'billing:write', 'audit:read', 'members:write']::text[]),
    created_by   uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    expires_at   timestamptz,
    revoked_at   timestamptz
);
COMMENT ON TABLE api_keys IS 'Admin API keys, stored as sha256 hashes with their scopes.';
CREATE INDEX api_keys_org_id_idx ON api_keys (org_id);
CREATE INDEX api_keys_created_by_idx ON api_keys (created_by);

CREATE TABLE organization_settings (
    org_id           uuid PRIMARY KEY REFERENCES organizations (id) ON DELETE CASCADE,
    timezone         text NOT NULL DEFAULT 'UTC',
    default_language text NOT NULL DEFAULT 'en',
    data_region      text NOT NULL DEFAULT 'default' CHECK (data_region IN ('default', 'us', 'eu', 'ap')),
    settings         jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(settings) = 'object'),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE organization_settings IS 'Organization-wide defaults: time zone, language, data region.';
CREATE TRIGGER organization_settings_touch BEFORE UPDATE ON organization_settings
    FOR EACH ROW EXECUTE FUNCTION botrt_touch_updated_at();
