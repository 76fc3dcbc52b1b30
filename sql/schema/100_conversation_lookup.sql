-- domain: Conversations and analytics
-- The operator API addresses a conversation by id alone; before any organization is set the
-- runtime role cannot see it, so this narrow SECURITY DEFINER function names its organization.
CREATE FUNCTION botrt_lookup_conversation(conversation uuid) RETURNS uuid
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$ SELECT org_id FROM conversations WHERE id = conversation $$;
COMMENT ON FUNCTION botrt_lookup_conversation(uuid) IS 'The organization of a conversation, by its id.';
REVOKE EXECUTE ON FUNCTION botrt_lookup_conversation(uuid) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION botrt_lookup_conversation(uuid) TO botrt_app;
