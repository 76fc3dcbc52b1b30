-- One batch (at most $2 rows per table and organization) of rows older than the retention of
-- organizations that keep less than the longest; no row back when nothing is left. $1: as of.
SELECT table_name, org_id, deleted
  FROM botrt_prune_expired_rows($1::timestamptz, $2::integer);
