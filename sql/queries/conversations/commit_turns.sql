-- One organization's turns in one statement (sql/schema/104_turn_commit.sql).
SELECT botrt_commit_turns($1::uuid, $2::uuid[], $3::jsonb, $4::integer[], $5::text[], $6::uuid[], $7::float8[],
                          $8::text[], $9::jsonb, $10::jsonb, $11::jsonb, $12::jsonb, $13::jsonb, $14::jsonb,
                          $15::jsonb, $16::jsonb, $17::jsonb, $18::jsonb);
