-- domain: Enterprise security
-- The audit trail: append-only, partitioned by month, and hash-chained per organization.
--
-- Each row's hash is sha256(prev_hash || botrt_audit_content(row)), where prev_hash is the hash
-- of the organization's previous row (32 zero bytes for its first) and chain_seq numbers the
-- organization's rows 1, 2, 3... A BEFORE INSERT trigger assigns both under a per-organization
-- advisory lock, so concurrent writers for one organization serialize and the chain never
-- forks; writers for different organizations do not wait for each other. UPDATE, DELETE and
-- TRUNCATE are rejected. Retention removes old rows only through maintenance (a superuser or
-- BYPASSRLS role that sets botrt.audit_maintenance), which first records the last removed hash
-- of each organization in audit_checkpoints, so what remains still verifies from there.
-- Verification (sql/queries/audit/verify_chain.sql) recomputes every hash and link.

-- The prev_hash of an organization's first row.
CREATE FUNCTION botrt_audit_genesis() RETURNS bytea
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT decode(repeat('00', 32), 'hex') $$;
COMMENT ON FUNCTION botrt_audit_genesis() IS 'The prev_hash of an organization''s first audit row.';

-- The canonical bytes of an audit row that its hash covers: a JSON array of the columns in a
-- fixed order, timestamps in UTC with microseconds, so the same row always gives the same bytes
-- whatever the session's time zone.
CREATE FUNCTION botrt_audit_content(
    org_id uuid, chain_seq bigint, id uuid, created_at timestamptz, actor_type text, actor_id text,
    action text, target_type text, target_id text, ip inet, metadata jsonb
) RETURNS bytea
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$
    SELECT convert_to(
        jsonb_build_array(
            org_id::text, chain_seq, id::text,
            to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
            actor_type, actor_id, action, target_type, target_id, ip::text, metadata
        )::text,
        'UTF8')
$$;
COMMENT ON FUNCTION botrt_audit_content(uuid, bigint, uuid, timestamptz, text, text, text, text, text, inet, jsonb)
    IS 'Canonical bytes of an audit row, covered by its hash.';

-- True inside a maintenance step that may move or remove audit rows: the session set
-- botrt.audit_maintenance and acts as a superuser or BYPASSRLS role (which could switch the
-- triggers off anyway). The runtime's role can set the setting but is neither.
CREATE FUNCTION botrt_audit_maintenance_allowed() RETURNS boolean
    LANGUAGE sql STABLE
    AS $$
    SELECT coalesce(current_setting('botrt.audit_maintenance', true), '') = 'on'
       AND EXISTS (SELECT FROM pg_roles WHERE rolname = current_user AND (rolsuper OR rolbypassrls))
$$;

CREATE TABLE audit_logs (
    id          uuid NOT NULL DEFAULT gen_random_uuid(),
    -- No foreign key: the trail outlives what it records, the organization included.
    org_id      uuid NOT NULL,
    -- Position in the organization's chain; set by the trigger, whatever the writer sends.
    chain_seq   bigint NOT NULL CHECK (chain_seq > 0),
    actor_type  text NOT NULL CHECK (actor_type IN ('user', 'api_key', 'system', 'bot', 'plugin')),
    actor_id    text,
    -- Dotted event name, e.g. bot.updated, outbox.dead_lettered, member.role_changed.
    action      text NOT NULL CHECK (action ~ '^[a-z][a-z0-9_]*(\.[a-z0-9_]+)+$'),
    target_type text,
    target_id   text,
    ip          inet,
    metadata    jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    created_at  timestamptz NOT NULL DEFAULT now(),
    prev_hash   bytea NOT NULL CHECK (octet_length(prev_hash) = 32),
    hash        bytea NOT NULL CHECK (octet_length(hash) = 32),
    PRIMARY KEY (id, created_at)
) PARTITION BY RANGE (created_at);
COMMENT ON TABLE audit_logs IS 'Append-only audit trail, hash-chained per organization, partitioned by month.';
CREATE INDEX audit_logs_org_seq_idx ON audit_logs (org_id, chain_seq);
CREATE INDEX audit_logs_org_created_idx ON audit_logs (org_id, created_at);
SELECT botrt_ensure_monthly_partitions('audit_logs', now() - interval '1 month', 5);

CREATE TABLE audit_chain_heads (
    org_id     uuid PRIMARY KEY,
    last_seq   bigint NOT NULL DEFAULT 0 CHECK (last_seq >= 0),
    last_hash  bytea NOT NULL DEFAULT botrt_audit_genesis() CHECK (octet_length(last_hash) = 32),
    updated_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE audit_chain_heads IS 'The newest link of each organization''s audit chain; reveals a deleted tail.';

CREATE TABLE audit_checkpoints (
    id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id     uuid NOT NULL,
    reason     text NOT NULL CHECK (reason IN ('partition_dropped', 'rows_pruned')),
    -- The dropped partition, or the table rows were pruned from.
    source     text NOT NULL,
    last_seq   bigint NOT NULL CHECK (last_seq > 0),
    last_hash  bytea NOT NULL CHECK (octet_length(last_hash) = 32),
    row_count  bigint NOT NULL CHECK (row_count > 0),
    created_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE audit_checkpoints IS 'Last hash of audit rows removed by retention, where verification resumes.';
CREATE INDEX audit_checkpoints_org_seq_idx ON audit_checkpoints (org_id, last_seq DESC);

CREATE FUNCTION botrt_audit_chain() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    head audit_chain_heads%ROWTYPE;
BEGIN
    -- Maintenance moving rows between partitions keeps their links.
    IF NEW.hash IS NOT NULL AND botrt_audit_maintenance_allowed() THEN
        RETURN NEW;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtextextended('botrt.audit_chain:' || NEW.org_id::text, 0));
    INSERT INTO audit_chain_heads (org_id) VALUES (NEW.org_id) ON CONFLICT (org_id) DO NOTHING;
    SELECT * INTO STRICT head FROM audit_chain_heads WHERE org_id = NEW.org_id;
    NEW.chain_seq := head.last_seq + 1;
    NEW.prev_hash := head.last_hash;
    NEW.hash := sha256(NEW.prev_hash || botrt_audit_content(
        NEW.org_id, NEW.chain_seq, NEW.id, NEW.created_at, NEW.actor_type, NEW.actor_id,
        NEW.action, NEW.target_type, NEW.target_id, NEW.ip, NEW.metadata));
    UPDATE audit_chain_heads
       SET last_seq = NEW.chain_seq, last_hash = NEW.hash, updated_at = now()
     WHERE org_id = NEW.org_id;
    RETURN NEW;
END
$$;
CREATE TRIGGER audit_logs_chain BEFORE INSERT ON audit_logs
    FOR EACH ROW EXECUTE FUNCTION botrt_audit_chain();

CREATE FUNCTION botrt_audit_reject_change() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF TG_OP = 'DELETE' AND botrt_audit_maintenance_allowed() THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'audit_logs is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_logs_append_only BEFORE UPDATE OR DELETE ON audit_logs
    FOR EACH ROW EXECUTE FUNCTION botrt_audit_reject_change();
CREATE TRIGGER audit_logs_no_truncate BEFORE TRUNCATE ON audit_logs
    FOR EACH STATEMENT EXECUTE FUNCTION botrt_audit_reject_change();

-- Records, for each organization with rows in REL (an audit partition about to be dropped),
-- its newest removed link. Returns the number of checkpoints written.
CREATE FUNCTION botrt_audit_checkpoint(rel regclass, reason text) RETURNS bigint
    LANGUAGE plpgsql
    AS $$
DECLARE
    written bigint;
BEGIN
    EXECUTE format(
        'INSERT INTO audit_checkpoints (org_id, reason, source, last_seq, last_hash, row_count)
         SELECT DISTINCT ON (org_id) org_id, %L, %L, chain_seq, hash, count(*) OVER (PARTITION BY org_id)
           FROM %s
          ORDER BY org_id, chain_seq DESC',
        reason, rel::text, rel);
    GET DIAGNOSTICS written = ROW_COUNT;
    RETURN written;
END
$$;
COMMENT ON FUNCTION botrt_audit_checkpoint(regclass, text)
    IS 'Checkpoints the newest link per organization of an audit partition before it is dropped.';
