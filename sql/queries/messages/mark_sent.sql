-- The platform accepted these messages (see sql/schema/103_outbound_sent.sql).
SELECT botrt_mark_sent($1::uuid, $2::uuid[], $3::float8[], $4::text[], $5::text[]);
