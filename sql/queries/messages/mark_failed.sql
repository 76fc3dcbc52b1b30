-- Dead letter: the message will not be sent; the reason stays with it. The guard means
-- status = 'pending', written so that the bloated pending index is not used to find the row
-- (sql/schema/105_pending_index_plans.sql).
UPDATE messages
SET status = 'failed', body = body || jsonb_build_object('failure', $3::text)
WHERE id = $1 AND created_at = to_timestamp($2)
  AND status NOT IN ('processed', 'sent', 'delivered', 'read', 'failed');
