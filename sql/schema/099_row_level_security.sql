-- domain: Tenancy security
-- Row-level security and privileges, generated from the catalog so that no table is forgotten.
--
-- Every table with an org_id column (organizations itself: by id) gets ROW LEVEL SECURITY,
-- FORCE ROW LEVEL SECURITY (the owner is bound too, unless superuser or BYPASSRLS) and the
-- policy tenant_isolation: org_id = botrt_current_org(), for reading and for writing. The
-- runtime acts as botrt_app (SET ROLE botrt_app) and sets the organization per transaction with
-- set_config('botrt.org_id', <uuid>, true); with no organization set it sees no tenant row.
--
-- Tables without org_id are global (users and their credentials, the plan and plugin catalogs,
-- retention defaults): not tenant data, so not scoped. Partitions get no grants at all, so the
-- runtime reaches partitioned data only through the parent, where the policy applies.
-- Materialized views cannot have row-level security; botrt_app reads them through the
-- analytics_* views (093_analytics.sql), which filter on the current organization.
--
-- botrt_apply_tenant_security() is idempotent; a migration that adds tables after this file
-- ends with SELECT botrt_apply_tenant_security(); tests/storage/test_schema_rls.py fails
-- otherwise.

CREATE FUNCTION botrt_apply_tenant_security() RETURNS integer
    LANGUAGE plpgsql
    AS $$
DECLARE
    rel record;
    predicate text;
    privileges text;
    secured integer := 0;
BEGIN
    EXECUTE format('GRANT USAGE ON SCHEMA %I TO botrt_app', current_schema());
    FOR rel IN
        SELECT c.oid::regclass AS oid, c.relname::text AS name, c.relkind::text AS kind, c.relispartition AS partition,
               EXISTS (SELECT FROM pg_attribute a
                        WHERE a.attrelid = c.oid AND a.attname = 'org_id' AND NOT a.attisdropped) AS has_org
          FROM pg_class c
          JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'p', 'v', 'm')
           AND NOT EXISTS (SELECT FROM pg_depend d
                            WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
         ORDER BY c.relname
    LOOP
        EXECUTE format('REVOKE ALL ON %s FROM botrt_app', rel.oid);
        IF rel.partition OR rel.kind = 'm' THEN
            CONTINUE;
        END IF;
        IF rel.kind = 'v' THEN
            EXECUTE format('GRANT SELECT ON %s TO botrt_app', rel.oid);
            CONTINUE;
        END IF;

        predicate := CASE
            WHEN rel.name = 'organizations' THEN 'id = botrt_current_org()'
            WHEN rel.has_org THEN 'org_id = botrt_current_org()'
        END;
        IF predicate IS NOT NULL THEN
            EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', rel.oid);
            EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', rel.oid);
            IF NOT EXISTS (SELECT FROM pg_policy WHERE polrelid = rel.oid AND polname = 'tenant_isolation') THEN
                EXECUTE format('CREATE POLICY tenant_isolation ON %s USING (%s) WITH CHECK (%s)',
                               rel.oid, predicate, predicate);
            END IF;
            secured := secured + 1;
        END IF;

        privileges := CASE
            -- The migration ledger: /readyz reads it.
            WHEN rel.name = 'schema_migrations' THEN 'SELECT'
            -- Append-only: the chain trigger maintains the heads as the inserting role.
            WHEN rel.name = 'audit_logs' THEN 'SELECT, INSERT'
            WHEN rel.name = 'audit_chain_heads' THEN 'SELECT, INSERT, UPDATE'
            -- Written by maintenance or the operator only.
            WHEN rel.name IN ('audit_checkpoints', 'retention_defaults', 'partition_registry', 'plans', 'plan_quotas')
                THEN 'SELECT'
            ELSE 'SELECT, INSERT, UPDATE, DELETE'
        END;
        IF privileges IS NOT NULL THEN
            EXECUTE format('GRANT %s ON %s TO botrt_app', privileges, rel.oid);
        END IF;
    END LOOP;
    EXECUTE format('GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA %I TO botrt_app', current_schema());
    RETURN secured;
END
$$;
COMMENT ON FUNCTION botrt_apply_tenant_security()
    IS 'Enables and forces RLS with the tenant policy on every org_id table; grants botrt_app.';

-- Resolving a tenant before one is chosen. Under forced RLS botrt_app cannot find a channel by
-- its slug (a webhook names only the slug), an API key by its hash, or a user's organizations,
-- because no organization is set yet. These narrow SECURITY DEFINER functions answer exactly
-- that and nothing more; they run as their owner, the migrating role (superuser or BYPASSRLS).

CREATE FUNCTION botrt_lookup_channel(channel_slug text)
    RETURNS TABLE (channel_id uuid, org_id uuid, bot_id uuid, kind text, enabled boolean)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
    SELECT ch.id, ch.org_id, ch.bot_id, ch.kind, ch.enabled
      FROM bot_channels ch
      JOIN bots b ON b.id = ch.bot_id
      JOIN organizations o ON o.id = ch.org_id
     WHERE ch.slug = channel_slug AND b.deleted_at IS NULL AND o.deleted_at IS NULL
$$;
COMMENT ON FUNCTION botrt_lookup_channel(text) IS 'The live channel with this slug and its organization.';

CREATE FUNCTION botrt_lookup_organization(org_slug text) RETURNS uuid
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$ SELECT id FROM organizations WHERE slug = org_slug AND deleted_at IS NULL $$;
COMMENT ON FUNCTION botrt_lookup_organization(text) IS 'The id of the live organization with this slug.';

CREATE FUNCTION botrt_lookup_api_key(api_key_hash bytea)
    RETURNS TABLE (api_key_id uuid, org_id uuid, scopes text[])
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
    SELECT k.id, k.org_id, k.scopes
      FROM api_keys k
      JOIN organizations o ON o.id = k.org_id
     WHERE k.key_hash = api_key_hash AND k.revoked_at IS NULL
       AND (k.expires_at IS NULL OR k.expires_at > now()) AND o.deleted_at IS NULL
$$;
COMMENT ON FUNCTION botrt_lookup_api_key(bytea) IS 'The organization and scopes of a live API key, by its sha256.';

CREATE FUNCTION botrt_user_memberships(member uuid)
    RETURNS TABLE (org_id uuid, org_slug text, role text)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
    SELECT m.org_id, o.slug, m.role
      FROM memberships m
      JOIN organizations o ON o.id = m.org_id
     WHERE m.user_id = member AND m.status = 'active' AND o.deleted_at IS NULL
$$;
COMMENT ON FUNCTION botrt_user_memberships(uuid) IS 'The live organizations a user belongs to, with their role.';

REVOKE EXECUTE ON FUNCTION
    botrt_apply_tenant_security(),
    botrt_lookup_channel(text),
    botrt_lookup_organization(text),
    botrt_lookup_api_key(bytea),
    botrt_user_memberships(uuid)
    FROM PUBLIC;
GRANT EXECUTE ON FUNCTION
    botrt_lookup_channel(text),
    botrt_lookup_organization(text),
    botrt_lookup_api_key(bytea),
    botrt_user_memberships(uuid)
    TO botrt_app;

-- Grants are explicit (above), not defaults: 001_foundation.sql's default privileges would also
-- give botrt_app every partition that maintenance creates later, and a partition read directly
-- is not subject to its parent's policy. A table added later without botrt_apply_tenant_security()
-- is then unreachable for the runtime rather than unscoped.
ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE SELECT, INSERT, UPDATE, DELETE ON TABLES FROM botrt_app;

SELECT botrt_apply_tenant_security();
