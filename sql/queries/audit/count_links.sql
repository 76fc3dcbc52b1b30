-- How many chains (organizations) and links (rows) verification covers. $1: org id or NULL.
SELECT (SELECT count(*) FROM audit_chain_heads h WHERE $1::uuid IS NULL OR h.org_id = $1::uuid) AS orgs,
       (SELECT count(*) FROM audit_logs a WHERE $1::uuid IS NULL OR a.org_id = $1::uuid) AS links;
