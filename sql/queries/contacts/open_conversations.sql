-- Each sender's open conversation on its channel, opening contacts and conversations where
-- needed, for a batch of distinct (channel, sender) pairs of one organization ($1), in one
-- statement (sql/schema/106_first_contact.sql). Returns (channel_id, sender, conversation_id).
SELECT channel_id, sender, conversation_id
FROM botrt_open_conversations($1::uuid, $2::uuid[], $3::uuid[], $4::text[], $5::text[]);
