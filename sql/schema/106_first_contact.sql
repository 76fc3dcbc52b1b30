-- domain: Conversations and analytics
-- First contacts in one round trip, as 102-104 do for arrivals, turns and sends.
--
-- A new sender's first webhook waits for its conversation before the inbox may store the
-- message, so this sits on the acknowledgement's path: it was BEGIN, acting for the org, the
-- advisory locks, the upsert and COMMIT, five round trips while a burst of new senders queued
-- behind them (the first second of a load test, a campaign's replies). SECURITY INVOKER: it acts
-- for ORG as storage does, under row-level security. Outside an explicit transaction the call
-- is its own transaction, which is how long the advisory locks are held.
--
-- Every statement finds rows by key (end_users' unique key, conversations by end user), so it
-- runs with enable_seqscan off like the functions of 105: a generic plan made while the tables
-- were small must not keep reading them whole.
CREATE FUNCTION botrt_open_conversations(
    org uuid, channel_ids uuid[], bot_ids uuid[], senders text[], display_names text[]
) RETURNS TABLE (channel_id uuid, sender text, conversation_id uuid)
    LANGUAGE plpgsql
    SET enable_seqscan = off
    AS $$
#variable_conflict use_column
BEGIN
    PERFORM set_config('botrt.org_id', org::text, true);
    -- One conversation per sender across flushers and processes: transaction-scoped advisory
    -- locks, taken in key order so that two batches naming the same senders cannot deadlock.
    PERFORM pg_advisory_xact_lock(k)
    FROM (
        SELECT DISTINCT hashtextextended(t.channel_id::text || ':' || t.sender, 0) AS k
        FROM unnest(channel_ids, senders) AS t(channel_id, sender)
        ORDER BY k
    ) AS keys;
    RETURN QUERY
    WITH input AS (
        SELECT * FROM unnest(channel_ids, bot_ids, senders, display_names) AS t(channel_id, bot_id, sender, display_name)
    ),
    contact AS (
        INSERT INTO end_users AS u (org_id, channel_id, external_id, display_name)
        SELECT org, input.channel_id, input.sender, input.display_name FROM input
        ON CONFLICT (channel_id, external_id) DO UPDATE
            SET last_seen_at = now(), display_name = coalesce(EXCLUDED.display_name, u.display_name)
        RETURNING u.id, u.channel_id, u.external_id
    ),
    existing AS (
        SELECT DISTINCT ON (c.end_user_id) c.end_user_id, c.id
        FROM conversations c
        JOIN contact ON c.end_user_id = contact.id
        WHERE c.status <> 'ended'
        ORDER BY c.end_user_id, c.started_at DESC
    ),
    created AS (
        INSERT INTO conversations AS c (org_id, bot_id, channel_id, end_user_id)
        SELECT org, input.bot_id, contact.channel_id, contact.id
        FROM contact
        JOIN input ON input.channel_id = contact.channel_id AND input.sender = contact.external_id
        WHERE NOT EXISTS (SELECT FROM existing WHERE existing.end_user_id = contact.id)
        RETURNING c.id, c.end_user_id
    )
    SELECT contact.channel_id, contact.external_id, coalesce(existing.id, created.id)
    FROM contact
    LEFT JOIN existing ON existing.end_user_id = contact.id
    LEFT JOIN created ON created.end_user_id = contact.id;
END
$$;
COMMENT ON FUNCTION botrt_open_conversations(uuid, uuid[], uuid[], text[], text[])
    IS 'Each sender''s open conversation, opening contacts and conversations where needed, acting for ORG.';
GRANT EXECUTE ON FUNCTION botrt_open_conversations(uuid, uuid[], uuid[], text[], text[]) TO botrt_app;
