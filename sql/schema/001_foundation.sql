-- domain: Foundation
-- Extensions, the runtime role, tenancy helpers and monthly partitioning.
CREATE EXTENSION IF NOT EXISTS vector;

-- The role the runtime acts as (SET ROLE after connecting). It is not a superuser and does not
-- bypass row-level security, so a query that forgets its WHERE clause still sees one tenant.
-- Roles are cluster-wide, so creation is idempotent.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'botrt_app') THEN
        CREATE ROLE botrt_app NOLOGIN NOSUPERUSER NOBYPASSRLS;
    END IF;
END
$$;

-- The organization a transaction acts for, set by storage with set_config('botrt.org_id', $1, true).
-- NULL when unset, so policies comparing org_id to it match no row.
CREATE FUNCTION botrt_current_org() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT nullif(current_setting('botrt.org_id', true), '')::uuid $$;
COMMENT ON FUNCTION botrt_current_org() IS 'Organization the current transaction acts for (botrt.org_id), or NULL.';

-- Creates the monthly partitions of PARENT covering [month of FROM_TS, + MONTHS months).
-- Partitions are named <parent>_pYYYYMM; existing ones are left alone.
CREATE FUNCTION botrt_ensure_monthly_partitions(parent regclass, from_ts timestamptz, months int)
    RETURNS int
    LANGUAGE plpgsql
    -- Bounds are UTC months whatever the session's time zone, so sessions never disagree.
    SET TimeZone = 'UTC'
    AS $$
DECLARE
    start_month date := date_trunc('month', from_ts AT TIME ZONE 'UTC')::date;
    lower_bound date;
    upper_bound date;
    part_name text;
    created int := 0;
BEGIN
    FOR i IN 0 .. months - 1 LOOP
        lower_bound := (start_month + make_interval(months => i))::date;
        upper_bound := (lower_bound + interval '1 month')::date;
        part_name := format('%s_p%s', parent::text, to_char(lower_bound, 'YYYYMM'));
        IF to_regclass(part_name) IS NULL THEN
            EXECUTE format(
                'CREATE TABLE %I PARTITION OF %s FOR VALUES FROM (%L) TO (%L)',
                part_name, parent, lower_bound::timestamptz AT TIME ZONE 'UTC',
                upper_bound::timestamptz AT TIME ZONE 'UTC');
            created := created + 1;
        END IF;
    END LOOP;
    RETURN created;
END
$$;
COMMENT ON FUNCTION botrt_ensure_monthly_partitions(regclass, timestamptz, int)
    IS 'Creates missing monthly partitions of a range-partitioned table.';

-- Keeps updated_at honest without every query remembering to set it.
CREATE FUNCTION botrt_touch_updated_at() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    NEW.updated_at := now();
    RETURN NEW;
END
$$;

-- The runtime role may use what later files create; row-level security narrows it per org.
GRANT USAGE ON SCHEMA public TO botrt_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO botrt_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO botrt_app;
-- /readyz reads the migration ledger as the runtime role (the runner creates it before this file).
GRANT SELECT ON schema_migrations TO botrt_app;
