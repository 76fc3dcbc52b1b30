-- Delivery statuses from the platform; a status never moves a message backwards (callbacks
-- arrive in any order), and failed is final.
UPDATE messages m
SET status = t.status
FROM unnest($1::text[], $2::text[]) AS t(provider_id, status)
WHERE m.external_id = t.provider_id
  AND m.direction = 'outbound'
  AND m.status <> 'failed'
  AND array_position(ARRAY['pending', 'sent', 'delivered', 'read', 'failed'], t.status)
      > array_position(ARRAY['pending', 'sent', 'delivered', 'read', 'failed'], m.status);
