-- Tables (not partitions), views and materialized views of the public schema, for docs/schema.md.
SELECT c.relname AS name,
       CASE c.relkind WHEN 'r' THEN 'table' WHEN 'p' THEN 'partitioned table'
                      WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' END AS kind,
       obj_description(c.oid, 'pg_class') AS comment,
       c.relrowsecurity AS rls,
       c.relforcerowsecurity AS rls_forced,
       CASE WHEN c.relkind = 'p' THEN botrt_partition_key(c.oid) END AS partition_key,
       CASE WHEN c.relkind = 'p' THEN EXISTS (
           SELECT FROM pg_inherits i JOIN pg_class d ON d.oid = i.inhrelid
            WHERE i.inhparent = c.oid AND pg_get_expr(d.relpartbound, d.oid) = 'DEFAULT') END AS has_default,
       r.resource AS retention_resource,
       r.months_ahead,
       d.retention_days AS default_retention_days,
       CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid, true) END AS definition,
       coalesce(c.reloptions, '{}') AS options
  FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN partition_registry r ON r.table_name = c.relname
  LEFT JOIN retention_defaults d ON d.resource = r.resource
 WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'v', 'm') AND NOT c.relispartition
 ORDER BY c.relname;
