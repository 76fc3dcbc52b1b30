-- Serializes first contact from each sender across flushers and processes, so one conversation
-- is opened per sender: transaction-scoped advisory locks, taken in key order so that two
-- batches naming the same senders cannot deadlock.
SELECT pg_advisory_xact_lock(k)
FROM (
    SELECT DISTINCT hashtextextended(channel_id || ':' || sender, 0) AS k
    FROM unnest($1::text[], $2::text[]) AS t(channel_id, sender)
    ORDER BY k
) AS keys;
