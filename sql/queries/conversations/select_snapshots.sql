-- The snapshots of a batch of conversations of one organization ($1), in one statement
-- (sql/schema/107_snapshot_reads.sql); absent ids are simply missing, in any order.
SELECT id, org_id, bot_id, channel_id, channel_kind, status, state, last_seq, recipient
FROM botrt_select_snapshots($1::uuid, $2::uuid[]);
