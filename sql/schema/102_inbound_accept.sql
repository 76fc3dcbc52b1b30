-- domain: Conversations and analytics
-- Accepting inbound messages in one round trip.
--
-- The webhook's acknowledgement waits for this commit, so its round trips are the platform's
-- latency: claiming the dedupe keys, storing the new messages and applying delivery statuses
-- took five (BEGIN, acting for the org, two statements, COMMIT), each queued behind whatever
-- else the event loop was doing. As one function call it is one statement, which outside an
-- explicit transaction commits by itself.
--
-- SECURITY INVOKER: it acts for ORG exactly as storage does (set_config(..., true), scoped to
-- the transaction) and every row it writes passes row-level security as the caller's role.
-- Message columns arrive as jsonb arrays, as in sql/queries/messages/insert_messages.sql; row i
-- of the messages is the event of dedupe key i. Status events (status_refs[i] not null) move the
-- outbound message they name forward, never back. Returns the keys that were new.
CREATE FUNCTION botrt_accept_inbound(
    org uuid,
    channel_ids uuid[],
    external_ids text[],
    ids jsonb,
    conversation_ids jsonb,
    kinds jsonb,
    texts jsonb,
    bodies jsonb,
    statuses jsonb,
    ts jsonb,
    status_refs text[],
    status_values text[]
) RETURNS TABLE (channel_id uuid, external_id text)
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM set_config('botrt.org_id', org::text, true);
    RETURN QUERY
    WITH keys AS (
        SELECT k.channel_id, k.external_id, k.n FROM unnest(channel_ids, external_ids) WITH ORDINALITY AS k(channel_id, external_id, n)
    ),
    claimed AS (
        INSERT INTO inbound_dedupe_keys AS d (channel_id, external_id, org_id)
        SELECT keys.channel_id, keys.external_id, org FROM keys
        ON CONFLICT DO NOTHING
        RETURNING d.channel_id, d.external_id
    ),
    fresh AS (
        SELECT keys.n FROM keys JOIN claimed USING (channel_id, external_id)
    ),
    message AS (
        SELECT t.* FROM ROWS FROM (
            jsonb_array_elements_text(ids), jsonb_array_elements_text(conversation_ids),
            jsonb_array_elements_text(kinds), jsonb_array_elements_text(texts), jsonb_array_elements(bodies),
            jsonb_array_elements_text(statuses), jsonb_array_elements_text(ts),
            unnest(status_refs), unnest(status_values)
        ) WITH ORDINALITY AS t(id, conversation_id, kind, text, body, status, ts, status_ref, status_value, n)
        JOIN fresh USING (n)
    ),
    stored AS (
        INSERT INTO messages (id, org_id, conversation_id, direction, external_id, kind, text, body, status, created_at)
        SELECT message.id::uuid, org, message.conversation_id::uuid, 'inbound', keys.external_id, message.kind,
               message.text, message.body, message.status, to_timestamp(message.ts::float8)
        FROM message JOIN keys USING (n)
    ),
    applied AS (
        UPDATE messages m
        SET status = message.status_value
        FROM message
        WHERE message.status_ref IS NOT NULL
          AND m.external_id = message.status_ref
          AND m.direction = 'outbound'
          AND m.status <> 'failed'
          AND array_position(ARRAY['pending', 'sent', 'delivered', 'read', 'failed'], message.status_value)
              > array_position(ARRAY['pending', 'sent', 'delivered', 'read', 'failed'], m.status)
    )
    SELECT claimed.channel_id, claimed.external_id FROM claimed;
END
$$;
COMMENT ON FUNCTION botrt_accept_inbound(uuid, uuid[], text[], jsonb, jsonb, jsonb, jsonb, jsonb, jsonb, jsonb, text[], text[])
    IS 'Claims inbound dedupe keys, stores the new messages and applies their statuses, acting for ORG.';
GRANT EXECUTE ON FUNCTION botrt_accept_inbound(uuid, uuid[], text[], jsonb, jsonb, jsonb, jsonb, jsonb, jsonb, jsonb, text[], text[])
    TO botrt_app;
