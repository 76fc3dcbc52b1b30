-- One organization's messages, each column a jsonb array (sql/schema/104_turn_commit.sql says
-- why). The caller's transaction acts for the organization.
SELECT botrt_insert_messages($1::uuid, $2::jsonb, $3::jsonb, $4::jsonb, $5::jsonb, $6::jsonb, $7::jsonb, $8::jsonb,
                             $9::jsonb, $10::jsonb, $11::jsonb);
