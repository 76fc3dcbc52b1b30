-- Batch insert of one organization's messages ($1), each other column a jsonb array, zipped
-- back into rows by ROWS FROM.
--
-- COPY is refused on tables under row-level security, hence INSERT ... SELECT. Columns travel
-- as JSON rather than as PostgreSQL arrays because the client encodes a JSON array in one C
-- call while asyncpg encodes an array element by element: about half the time for both sides
-- together (measured in loadtests/batch_insert.py; docs/benchmarks.md). jsonb, not json: it is
-- parsed once on arrival, where json would be parsed again by each *_elements call.
INSERT INTO messages (id, org_id, conversation_id, direction, seq, external_id, kind, text, body, status, created_at)
SELECT id::uuid, $1::uuid, conversation_id::uuid, direction, seq::integer, external_id, kind, text, body, status,
       to_timestamp(ts::float8)
FROM ROWS FROM (
    jsonb_array_elements_text($2::jsonb), jsonb_array_elements_text($3::jsonb), jsonb_array_elements_text($4::jsonb),
    jsonb_array_elements_text($5::jsonb), jsonb_array_elements_text($6::jsonb), jsonb_array_elements_text($7::jsonb),
    jsonb_array_elements_text($8::jsonb), jsonb_array_elements($9::jsonb), jsonb_array_elements_text($10::jsonb),
    jsonb_array_elements_text($11::jsonb)
) AS t(id, conversation_id, direction, seq, external_id, kind, text, body, status, ts);
