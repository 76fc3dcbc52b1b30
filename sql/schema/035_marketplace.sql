-- domain: Marketplace and plugins
-- The plugin catalog (publishers, plugins, versions, reviews) is public to every tenant, so it
-- names organizations in columns other than org_id (owner_org_id, reviewer_org_id) and is not
-- scoped by row-level security. Installations, with their per-bot configuration, and the hook
-- errors that switch a failing plugin off, are tenant rows.

CREATE TABLE plugin_publishers (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    slug         text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    name         text NOT NULL,
    owner_org_id uuid REFERENCES organizations (id) ON DELETE SET NULL,
    website_url  text CHECK (website_url ~ '^https?://'),
    verified     boolean NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE plugin_publishers IS 'Authors of marketplace plugins (public catalog).';
CREATE INDEX plugin_publishers_owner_org_id_idx ON plugin_publishers (owner_org_id);

CREATE TABLE plugins (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    publisher_id uuid NOT NULL REFERENCES plugin_publishers (id) ON DELETE CASCADE,
    slug         text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9_-]{0,62}$'),
    name         text NOT NULL,
    summary      text NOT NULL DEFAULT '',
    description  text NOT NULL DEFAULT '',
    category     text NOT NULL DEFAULT 'other'
                 CHECK (category IN ('analytics', 'crm', 'moderation', 'nlu', 'channels', 'llm', 'utilities', 'other')),
    homepage_url text CHECK (homepage_url ~ '^https?://'),
    status       text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'listed', 'delisted')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE plugins IS 'Marketplace listings of plugins that hook into the message pipeline.';
CREATE INDEX plugins_publisher_id_idx ON plugins (publisher_id);
CREATE TRIGGER plugins_touch BEFORE UPDATE ON plugins
    FOR EACH ROW EXECUTE FUNCTION botrt_touch_updated_at();

CREATE TABLE plugin_versions (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    plugin_id          uuid NOT NULL REFERENCES plugins (id) ON DELETE CASCADE,
    version            text NOT NULL CHECK (version ~ '^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?$'),
    -- The package's declaration: its entry point in the botrt.plugins group and the hooks it implements.
    manifest           jsonb NOT NULL CHECK (jsonb_typeof(manifest) = 'object'
                                             AND jsonb_typeof(manifest -> 'entry_point') IS NOT DISTINCT FROM 'string'
                                             AND jsonb_typeof(manifest -> 'hooks') IS NOT DISTINCT FROM 'array'),
    -- JSON Schema of the per-bot configuration (the plugin's own msgspec Struct, exported).
    config_schema      jsonb NOT NULL DEFAULT '{"type": "object"}'
                       CHECK (jsonb_typeof(config_schema) = 'object' AND config_schema ->> 'type' IS NOT DISTINCT FROM 'object'),
    min_botrt_version  text,
    package_sha256     bytea CHECK (octet_length(package_sha256) = 32),
    status             text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'published', 'yanked')),
    published_at       timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (plugin_id, version)
);
COMMENT ON TABLE plugin_versions IS 'Released versions of a plugin with their manifest and configuration schema.';

CREATE TABLE plugin_installations (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id            uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    bot_id            uuid NOT NULL REFERENCES bots (id) ON DELETE CASCADE,
    plugin_id         uuid NOT NULL REFERENCES plugins (id) ON DELETE CASCADE,
    plugin_version_id uuid NOT NULL REFERENCES plugin_versions (id) ON DELETE RESTRICT,
    -- Validated by the plugin's own Struct when the bot loads; stored as given.
    config            jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(config) = 'object'),
    priority          integer NOT NULL DEFAULT 100,
    status            text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled', 'failing')),
    error_count       integer NOT NULL DEFAULT 0 CHECK (error_count >= 0),
    disabled_reason   text,
    installed_by      uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (bot_id, plugin_id)
);
COMMENT ON TABLE plugin_installations IS 'A plugin version installed on a bot, with its configuration and priority.';
CREATE INDEX plugin_installations_org_id_idx ON plugin_installations (org_id);
CREATE INDEX plugin_installations_plugin_id_idx ON plugin_installations (plugin_id);
CREATE INDEX plugin_installations_plugin_version_id_idx ON plugin_installations (plugin_version_id);
CREATE INDEX plugin_installations_installed_by_idx ON plugin_installations (installed_by);
CREATE TRIGGER plugin_installations_touch BEFORE UPDATE ON plugin_installations
    FOR EACH ROW EXECUTE FUNCTION botrt_touch_updated_at();

CREATE TABLE plugin_reviews (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    plugin_id        uuid NOT NULL REFERENCES plugins (id) ON DELETE CASCADE,
    reviewer_org_id  uuid REFERENCES organizations (id) ON DELETE SET NULL,
    reviewer_user_id uuid REFERENCES users (id) ON DELETE SET NULL,
    rating           smallint NOT NULL CHECK (rating BETWEEN 1 AND 5),
    title            text,
    body             text NOT NULL DEFAULT '',
    status           text NOT NULL DEFAULT 'published' CHECK (status IN ('published', 'hidden', 'flagged')),
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (plugin_id, reviewer_user_id)
);
COMMENT ON TABLE plugin_reviews IS 'Public ratings and reviews of marketplace plugins.';
CREATE INDEX plugin_reviews_reviewer_org_id_idx ON plugin_reviews (reviewer_org_id);
CREATE INDEX plugin_reviews_reviewer_user_id_idx ON plugin_reviews (reviewer_user_id);
CREATE TRIGGER plugin_reviews_touch BEFORE UPDATE ON plugin_reviews
    FOR EACH ROW EXECUTE FUNCTION botrt_touch_updated_at();

CREATE TABLE plugin_hook_errors (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id          uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    installation_id uuid NOT NULL REFERENCES plugin_installations (id) ON DELETE CASCADE,
    hook            text NOT NULL CHECK (hook IN (
                        'startup', 'inbound', 'understood', 'before_agent', 'after_agent', 'tool_call',
                        'outbound', 'sent', 'conversation_started', 'conversation_ended', 'handoff',
                        'error', 'shutdown')),
    error_kind      text NOT NULL CHECK (error_kind IN ('exception', 'timeout', 'invalid_result')),
    message         text NOT NULL,
    occurred_at     timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE plugin_hook_errors IS 'Failed or timed-out hook calls; enough of them switch the installation off.';
CREATE INDEX plugin_hook_errors_org_id_idx ON plugin_hook_errors (org_id);
CREATE INDEX plugin_hook_errors_installation_id_idx ON plugin_hook_errors (installation_id, occurred_at DESC);
