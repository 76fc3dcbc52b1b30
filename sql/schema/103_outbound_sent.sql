-- domain: Conversations and analytics
-- Recording sends in one round trip, as botrt_accept_inbound (102) does for arrivals: the
-- outbox's sent marks were BEGIN, acting for the org, the UPDATE and COMMIT, four round trips
-- for every batch. SECURITY INVOKER: it acts for ORG as storage does, under row-level security.
-- The platform accepted these messages: their provider ids (for status callbacks) and any note
-- are recorded; a row already past pending is left alone. ts gives each row's partition.
CREATE FUNCTION botrt_mark_sent(org uuid, ids uuid[], ts float8[], provider_ids text[], notes text[]) RETURNS void
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM set_config('botrt.org_id', org::text, true);
    UPDATE messages m
    SET status = 'sent',
        external_id = t.provider_id,
        body = CASE WHEN t.note IS NULL THEN m.body ELSE m.body || jsonb_build_object('note', t.note) END
    FROM unnest(ids, ts, provider_ids, notes) AS t(id, ts, provider_id, note)
    WHERE m.id = t.id AND m.created_at = to_timestamp(t.ts) AND m.status = 'pending';
END
$$;
COMMENT ON FUNCTION botrt_mark_sent(uuid, uuid[], float8[], text[], text[])
    IS 'Marks outbound messages sent with their provider ids, acting for ORG.';
GRANT EXECUTE ON FUNCTION botrt_mark_sent(uuid, uuid[], float8[], text[], text[]) TO botrt_app;
