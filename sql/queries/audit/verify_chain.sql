-- Where the per-organization audit hash chains do not verify, in chain order; no row when all do.
-- $1: one organization's id, or NULL for all.
--   hash_mismatch  the row's hash is not sha256(prev_hash || its content): the row was altered;
--   missing_rows   chain_seq skips ahead: rows before it were deleted;
--   broken_link    prev_hash is not the previous row's hash (or chain_seq repeats);
--   missing_tail   the organization's chain head is newer than its newest row: the tail was deleted.
-- Links are followed from the newest retention checkpoint on (rows removed by maintenance);
-- rows at or before it are still checked against their own hash.
WITH anchors AS (
    SELECT DISTINCT ON (k.org_id) k.org_id, k.last_seq, k.last_hash
      FROM audit_checkpoints k
     WHERE $1::uuid IS NULL OR k.org_id = $1::uuid
     ORDER BY k.org_id, k.last_seq DESC
),
chain AS (
    SELECT a.org_id, a.id, a.created_at, a.chain_seq, a.prev_hash, a.hash,
           sha256(a.prev_hash || botrt_audit_content(
               a.org_id, a.chain_seq, a.id, a.created_at, a.actor_type, a.actor_id,
               a.action, a.target_type, a.target_id, a.ip, a.metadata)) AS computed,
           coalesce(n.last_seq, 0) AS anchor_seq,
           coalesce(n.last_hash, botrt_audit_genesis()) AS anchor_hash
      FROM audit_logs a
      LEFT JOIN anchors n ON n.org_id = a.org_id
     WHERE $1::uuid IS NULL OR a.org_id = $1::uuid
),
linked AS (
    SELECT c.*,
           coalesce(lag(c.chain_seq) OVER w, c.anchor_seq) + 1 AS expected_seq,
           coalesce(lag(c.hash) OVER w, c.anchor_hash) AS expected_prev
      FROM chain c
     WHERE c.chain_seq > c.anchor_seq
    WINDOW w AS (PARTITION BY c.org_id ORDER BY c.chain_seq, c.created_at, c.id)
),
tails AS (
    SELECT h.org_id, h.last_seq,
           greatest((SELECT max(c.chain_seq) FROM chain c WHERE c.org_id = h.org_id),
                    (SELECT n.last_seq FROM anchors n WHERE n.org_id = h.org_id)) AS seen_seq
      FROM audit_chain_heads h
     WHERE $1::uuid IS NULL OR h.org_id = $1::uuid
)
SELECT org_id, 'hash_mismatch' AS problem, chain_seq, id AS row_id, created_at
  FROM chain
 WHERE computed IS DISTINCT FROM hash
UNION ALL
SELECT org_id, CASE WHEN chain_seq > expected_seq THEN 'missing_rows' ELSE 'broken_link' END,
       chain_seq, id, created_at
  FROM linked
 WHERE chain_seq <> expected_seq OR prev_hash IS DISTINCT FROM expected_prev
UNION ALL
SELECT org_id, 'missing_tail', last_seq, NULL::uuid, NULL::timestamptz
  FROM tails
 WHERE last_seq > coalesce(seen_seq, 0)
 ORDER BY org_id, chain_seq, problem;
