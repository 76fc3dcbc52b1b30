-- domain: Conversations and analytics
-- Conversation snapshots in one round trip: the pipeline reads one for every conversation not
-- in its cache (every first message after a start, every new sender), and the read was BEGIN,
-- acting for the org, the query and COMMIT. SECURITY INVOKER and STABLE: it acts for ORG as
-- storage does (set_config(..., true), which outside a transaction block ends with the
-- statement), under row-level security, and finds rows by primary key only.
CREATE FUNCTION botrt_select_snapshots(org uuid, ids uuid[])
    RETURNS TABLE (
        id uuid, org_id uuid, bot_id uuid, channel_id uuid, channel_kind text, status text, state jsonb,
        last_seq integer, recipient text
    )
    LANGUAGE plpgsql
    SET enable_seqscan = off
    AS $$
#variable_conflict use_column
BEGIN
    PERFORM set_config('botrt.org_id', org::text, true);
    RETURN QUERY
    SELECT c.id, c.org_id, c.bot_id, c.channel_id, ch.kind, c.status, c.state, c.last_seq, u.external_id
    FROM conversations c
    JOIN bot_channels ch ON ch.id = c.channel_id
    JOIN end_users u ON u.id = c.end_user_id
    WHERE c.id = ANY(ids);
END
$$;
COMMENT ON FUNCTION botrt_select_snapshots(uuid, uuid[]) IS 'The snapshots of one organization''s conversations by id, acting for ORG.';
GRANT EXECUTE ON FUNCTION botrt_select_snapshots(uuid, uuid[]) TO botrt_app;
