-- Claims external ids; returns those that were new. A redelivery claims nothing.
INSERT INTO inbound_dedupe_keys (channel_id, external_id, org_id)
SELECT * FROM unnest($1::uuid[], $2::text[], $3::uuid[])
ON CONFLICT DO NOTHING
RETURNING channel_id, external_id;
