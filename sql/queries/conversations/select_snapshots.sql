-- The snapshots of a batch of conversations of one organization (any order; absent ids are
-- simply missing).
SELECT c.id, c.org_id, c.bot_id, c.channel_id, ch.kind AS channel_kind, c.status, c.state, c.last_seq,
       u.external_id AS recipient
FROM conversations c
JOIN bot_channels ch ON ch.id = c.channel_id
JOIN end_users u ON u.id = c.end_user_id
WHERE c.id = ANY($1::uuid[]);
