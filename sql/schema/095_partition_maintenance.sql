-- domain: Operations
-- Partition maintenance for the monthly-partitioned tables, and the analytics refresh.
-- `botrt db maintain` (storage/maintenance.py) calls, in this order:
--   botrt_maintain_partitions(as_of, false)  create ahead, drain DEFAULT, drop expired partitions,
--                                            prune inbound_dedupe_keys;
--   botrt_prune_expired_rows(as_of, batch)   repeatedly, one short transaction per batch, until it
--                                            returns no row;
--   botrt_refresh_analytics()                REFRESH MATERIALIZED VIEW CONCURRENTLY each view.
-- botrt_maintain_partitions(as_of) alone (prune_rows defaults to true) does all of the partition
-- work in one transaction, for cron or psql.
--
-- Maintenance runs as the role that ran the migrations: a superuser or an owner with BYPASSRLS
-- (it must see every organization's rows, detach partitions and refresh materialized views).
-- DETACH PARTITION here is the plain kind (CONCURRENTLY cannot run inside a function), which
-- locks the parent until the maintenance transaction commits: a brief pause for writers of that
-- table, once a month per table.
--
-- Retention. A partition is dropped once all of it is older than the longest retention any
-- organization has for that kind of data (its data_retention_policies row, or
-- retention_defaults). Organizations with a shorter retention have their older rows deleted in
-- batches instead. So an organization with the longest retention keeps rows up to one month past
-- it, until the whole partition expires.
--
-- DEFAULT partitions: the trade-off. Without one, an insert whose month has no partition fails;
-- partitions are created months_ahead (3) months ahead by every maintenance run and by the
-- migrations, so that needs maintenance to have stopped for months, but the failure would then
-- hit the hot path (webhook acks, the audit trail) with an error. With one, such an insert lands
-- in <table>_default and succeeds, at two costs: creating a partition must scan the DEFAULT
-- partition to prove none of its rows belong to the new range (cheap while it is empty, which is
-- its normal state), and a row sitting there would block creating its month's partition. We take
-- the DEFAULT partition, for the guarantee that inserts never fail for want of a partition, and
-- pay the second cost in maintenance: botrt_drain_default_partition moves any rows out of it
-- (detach it, create the months its rows need, re-insert through the parent, empty it, re-attach)
-- before creating anything. Audit rows keep their hashes while moved (see 021_audit.sql).

CREATE TABLE partition_registry (
    table_name    text PRIMARY KEY,
    resource      text NOT NULL UNIQUE REFERENCES retention_defaults (resource),
    months_ahead  integer NOT NULL DEFAULT 3 CHECK (months_ahead >= 2),
    months_behind integer NOT NULL DEFAULT 1 CHECK (months_behind >= 0)
);
COMMENT ON TABLE partition_registry IS 'The monthly-partitioned tables maintenance keeps, and their retention resource.';
INSERT INTO partition_registry (table_name, resource) VALUES
    ('messages', 'messages'),
    ('inbound_events', 'inbound_events'),
    ('usage_events', 'usage_events'),
    ('audit_logs', 'audit_logs'),
    ('voice_transcripts', 'voice_transcripts');

DO $$
DECLARE
    registered record;
BEGIN
    FOR registered IN SELECT table_name FROM partition_registry LOOP
        IF to_regclass(registered.table_name || '_default') IS NULL THEN
            EXECUTE format('CREATE TABLE %I PARTITION OF %I DEFAULT',
                           registered.table_name || '_default', registered.table_name);
        END IF;
    END LOOP;
END
$$;

-- The (single) partition key column of a range-partitioned table.
CREATE FUNCTION botrt_partition_key(parent regclass) RETURNS text
    LANGUAGE sql STABLE
    AS $$
    SELECT a.attname::text
      FROM pg_partitioned_table p
      JOIN pg_attribute a ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0]
     WHERE p.partrelid = parent
$$;

-- The exclusive upper bound of a range partition; NULL for a DEFAULT partition.
CREATE FUNCTION botrt_partition_upper_bound(part regclass) RETURNS timestamptz
    LANGUAGE sql STABLE
    AS $$
    SELECT (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \(''([^'']+)''\)'))[1]::timestamptz
      FROM pg_class c
     WHERE c.oid = part
$$;

-- The longest retention, in days, any organization has for RESOURCE (the default when there
-- are no organizations, or when one has no policy and the default is the longest).
CREATE FUNCTION botrt_longest_retention_days(resource text) RETURNS integer
    LANGUAGE sql STABLE
    AS $$
    SELECT max(coalesce(p.retention_days, d.retention_days))
      FROM retention_defaults d
      LEFT JOIN organizations o ON true
      LEFT JOIN data_retention_policies p ON p.org_id = o.id AND p.resource = d.resource
     WHERE d.resource = botrt_longest_retention_days.resource
$$;

-- Moves the rows of PARENT's DEFAULT partition into monthly partitions; returns how many moved.
CREATE FUNCTION botrt_drain_default_partition(parent regclass) RETURNS bigint
    LANGUAGE plpgsql
    SET TimeZone = 'UTC'
    AS $$
DECLARE
    default_part regclass := to_regclass(parent::text || '_default');
    key text := botrt_partition_key(parent);
    columns text;
    has_rows boolean;
    month_start timestamptz;
    moved bigint;
BEGIN
    IF default_part IS NULL THEN
        RETURN 0;
    END IF;
    EXECUTE format('SELECT EXISTS (SELECT FROM %s)', default_part) INTO has_rows;
    IF NOT has_rows THEN
        RETURN 0;
    END IF;
    SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) INTO columns
      FROM pg_attribute
     WHERE attrelid = parent AND attnum > 0 AND NOT attisdropped AND attgenerated = '';
    EXECUTE format('ALTER TABLE %s DETACH PARTITION %s', parent, default_part);
    FOR month_start IN EXECUTE format('SELECT DISTINCT date_trunc(''month'', %I) FROM %s', key, default_part) LOOP
        PERFORM botrt_ensure_monthly_partitions(parent, month_start, 1);
    END LOOP;
    PERFORM set_config('botrt.audit_maintenance', 'on', true);
    EXECUTE format('INSERT INTO %s (%s) SELECT %s FROM %s', parent, columns, columns, default_part);
    GET DIAGNOSTICS moved = ROW_COUNT;
    PERFORM set_config('botrt.audit_maintenance', 'off', true);
    EXECUTE format('TRUNCATE %s', default_part);
    EXECUTE format('ALTER TABLE %s ATTACH PARTITION %s DEFAULT', parent, default_part);
    RETURN moved;
END
$$;
COMMENT ON FUNCTION botrt_drain_default_partition(regclass)
    IS 'Moves rows out of a DEFAULT partition into monthly partitions created for them.';

-- Deletes up to BATCH_SIZE rows per table and retention tier (organizations sharing a retention
-- shorter than the longest), rows older than that retention. Returns the rows deleted per table
-- and organization; no row when nothing is left. One statement per tier, not per organization, so
-- a deployment with many organizations on the default retention costs a few statements, each
-- pruned to the partitions before its cutoff. Audit rows go oldest link first per organization,
-- and each organization's last removed link is checkpointed in the same statement.
CREATE FUNCTION botrt_prune_expired_rows(as_of timestamptz DEFAULT now(), batch_size integer DEFAULT 10000)
    RETURNS TABLE (table_name text, org_id uuid, deleted bigint)
    LANGUAGE plpgsql
    SET TimeZone = 'UTC'
    AS $$
#variable_conflict use_column
DECLARE
    registered record;
    tier record;
    key text;
    longest integer;
    before timestamptz;
BEGIN
    FOR registered IN SELECT r.table_name AS tbl, r.resource FROM partition_registry r ORDER BY r.table_name LOOP
        key := botrt_partition_key(registered.tbl::regclass);
        longest := botrt_longest_retention_days(registered.resource);
        FOR tier IN
            SELECT e.days, array_agg(e.id ORDER BY e.id) AS orgs
              FROM (SELECT o.id, coalesce(p.retention_days, d.retention_days) AS days
                      FROM organizations o
                      JOIN retention_defaults d ON d.resource = registered.resource
                      LEFT JOIN data_retention_policies p ON p.org_id = o.id AND p.resource = d.resource) e
             WHERE e.days < longest
             GROUP BY e.days
             ORDER BY e.days
        LOOP
            before := as_of - make_interval(days => tier.days);
            IF registered.tbl = 'audit_logs' THEN
                PERFORM set_config('botrt.audit_maintenance', 'on', true);
                RETURN QUERY
                    WITH doomed AS (
                        SELECT a.id, a.created_at FROM audit_logs a
                         WHERE a.org_id = ANY (tier.orgs) AND a.created_at < before
                         ORDER BY a.org_id, a.chain_seq
                         LIMIT batch_size
                    ), gone AS (
                        DELETE FROM audit_logs a USING doomed d
                         WHERE a.id = d.id AND a.created_at = d.created_at
                        RETURNING a.org_id, a.chain_seq, a.hash
                    ), checkpointed AS (
                        INSERT INTO audit_checkpoints (org_id, reason, source, last_seq, last_hash, row_count)
                        SELECT g.org_id, 'rows_pruned', 'audit_logs', max(g.chain_seq),
                               (array_agg(g.hash ORDER BY g.chain_seq DESC))[1], count(*)
                          FROM gone g
                         GROUP BY g.org_id
                        RETURNING audit_checkpoints.org_id, audit_checkpoints.row_count
                    )
                    SELECT 'audit_logs'::text, c.org_id, c.row_count FROM checkpointed c;
                PERFORM set_config('botrt.audit_maintenance', 'off', true);
            ELSE
                RETURN QUERY EXECUTE format(
                    'WITH gone AS (
                         DELETE FROM %1$s WHERE (id, %2$I) IN
                             (SELECT id, %2$I FROM %1$s WHERE org_id = ANY ($1) AND %2$I < $2 LIMIT $3)
                         RETURNING org_id)
                     SELECT %3$L::text, g.org_id, count(*) FROM gone g GROUP BY g.org_id',
                    registered.tbl, key, registered.tbl)
                    USING tier.orgs, before, batch_size;
            END IF;
        END LOOP;
    END LOOP;
END
$$;
COMMENT ON FUNCTION botrt_prune_expired_rows(timestamptz, integer)
    IS 'One batch of deleting rows past the retention of organizations that keep less than the longest.';

CREATE FUNCTION botrt_maintain_partitions(
    as_of timestamptz DEFAULT now(), prune_rows boolean DEFAULT true, batch_size integer DEFAULT 10000
)
    RETURNS TABLE (action text, table_name text, detail text, row_count bigint)
    LANGUAGE plpgsql
    SET TimeZone = 'UTC'
    AS $$
#variable_conflict use_column
DECLARE
    registered record;
    parent regclass;
    month_start timestamptz;
    cutoff timestamptz;
    part record;
    pruned record;
    totals jsonb := '{}';
    n bigint;
BEGIN
    FOR registered IN SELECT r.* FROM partition_registry r ORDER BY r.table_name LOOP
        parent := registered.table_name::regclass;
        table_name := registered.table_name;

        n := botrt_drain_default_partition(parent);
        IF n > 0 THEN
            action := 'drained_default'; detail := parent::text || '_default'; row_count := n;
            RETURN NEXT;
        END IF;

        FOR i IN -registered.months_behind .. registered.months_ahead LOOP
            month_start := date_trunc('month', as_of) + make_interval(months => i);
            IF botrt_ensure_monthly_partitions(parent, month_start, 1) > 0 THEN
                action := 'created'; detail := format('%s_p%s', parent, to_char(month_start, 'YYYYMM'));
                row_count := 0;
                RETURN NEXT;
            END IF;
        END LOOP;

        cutoff := as_of - make_interval(days => botrt_longest_retention_days(registered.resource));
        FOR part IN
            SELECT c.oid::regclass AS rel, botrt_partition_upper_bound(c.oid) AS upper_bound
              FROM pg_inherits i
              JOIN pg_class c ON c.oid = i.inhrelid
             WHERE i.inhparent = parent
             ORDER BY 2
        LOOP
            CONTINUE WHEN part.upper_bound IS NULL OR part.upper_bound > cutoff;
            IF registered.table_name = 'audit_logs' THEN
                action := 'checkpointed'; detail := part.rel::text;
                row_count := botrt_audit_checkpoint(part.rel, 'partition_dropped');
                RETURN NEXT;
            END IF;
            EXECUTE format('ALTER TABLE %s DETACH PARTITION %s', parent, part.rel);
            action := 'dropped'; detail := part.rel::text; row_count := 0;
            EXECUTE format('DROP TABLE %s', part.rel);
            RETURN NEXT;
        END LOOP;
    END LOOP;

    -- Platforms redeliver for up to 7 days (Meta); a day of margin.
    DELETE FROM inbound_dedupe_keys k WHERE k.created_at < as_of - interval '8 days';
    GET DIAGNOSTICS n = ROW_COUNT;
    action := 'pruned_dedupe_keys'; table_name := 'inbound_dedupe_keys'; detail := NULL; row_count := n;
    RETURN NEXT;

    IF prune_rows THEN
        LOOP
            n := 0;
            FOR pruned IN SELECT * FROM botrt_prune_expired_rows(as_of, batch_size) LOOP
                n := n + pruned.deleted;
                totals := jsonb_set(totals, ARRAY[pruned.table_name],
                                    to_jsonb(coalesce((totals ->> pruned.table_name)::bigint, 0) + pruned.deleted));
            END LOOP;
            EXIT WHEN n = 0;
        END LOOP;
        FOR part IN SELECT t.key, t.value::bigint AS value FROM jsonb_each_text(totals) t LOOP
            action := 'deleted_rows'; table_name := part.key; detail := NULL; row_count := part.value;
            RETURN NEXT;
        END LOOP;
    END IF;
END
$$;
COMMENT ON FUNCTION botrt_maintain_partitions(timestamptz, boolean, integer)
    IS 'Creates monthly partitions ahead, drops those past the longest retention, prunes dedupe keys.';

CREATE FUNCTION botrt_refresh_analytics() RETURNS TABLE (view_name text, refreshed_concurrently boolean)
    LANGUAGE plpgsql
    AS $$
#variable_conflict use_column
DECLARE
    mv record;
BEGIN
    FOR mv IN
        SELECT c.oid::regclass AS rel, c.relname::text AS name, c.relispopulated AS populated
          FROM pg_class c
          JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE c.relkind = 'm' AND n.nspname = current_schema()
         ORDER BY c.relname
    LOOP
        -- CONCURRENTLY needs a populated view (and a unique index, which every one has).
        IF mv.populated THEN
            EXECUTE format('REFRESH MATERIALIZED VIEW CONCURRENTLY %s', mv.rel);
        ELSE
            EXECUTE format('REFRESH MATERIALIZED VIEW %s', mv.rel);
        END IF;
        view_name := mv.name;
        refreshed_concurrently := mv.populated;
        RETURN NEXT;
    END LOOP;
END
$$;
COMMENT ON FUNCTION botrt_refresh_analytics()
    IS 'Refreshes every materialized view, CONCURRENTLY so readers are never blocked.';

REVOKE EXECUTE ON FUNCTION
    botrt_drain_default_partition(regclass),
    botrt_prune_expired_rows(timestamptz, integer),
    botrt_maintain_partitions(timestamptz, boolean, integer),
    botrt_refresh_analytics(),
    botrt_audit_checkpoint(regclass, text)
    FROM PUBLIC;
