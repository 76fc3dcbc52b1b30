-- One organization's inbound events in one statement (see sql/schema/102_inbound_accept.sql);
-- returns the dedupe keys that were new.
SELECT channel_id, external_id
FROM botrt_accept_inbound($1::uuid, $2::uuid[], $3::text[], $4::jsonb, $5::jsonb, $6::jsonb, $7::jsonb, $8::jsonb,
                          $9::jsonb, $10::jsonb, $11::text[], $12::text[]);
