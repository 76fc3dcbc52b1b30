-- domain: Conversations and analytics
-- messages.conversation_id is checked once per statement instead of once per row.
--
-- The foreign key ran its own lookup and row lock on conversations for every inserted message:
-- 40% of the server time of a 1,000-row batch into the busiest table (EXPLAIN ANALYZE, see
-- docs/benchmarks.md). These triggers keep the key's promises set-wise:
--   * an insert naming a conversation that does not exist (or, acting for an organization,
--     one of another organization) fails with foreign_key_violation;
--   * the conversations named are locked FOR KEY SHARE until commit, so a concurrent delete
--     waits for the insert, as it would for the foreign key;
--   * deleting conversations deletes their messages (ON DELETE CASCADE);
--   * a message cannot move to another conversation.
-- The checks run as the inserting role: under row-level security it sees only the
-- organization it acts for, which is also the only organization its messages may name.
ALTER TABLE messages DROP CONSTRAINT messages_conversation_id_fkey;

CREATE FUNCTION botrt_messages_check_conversations() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
DECLARE
    wanted integer;
    locked integer;
BEGIN
    SELECT count(DISTINCT conversation_id) INTO wanted FROM inserted_messages;
    PERFORM FROM conversations c
     WHERE c.id IN (SELECT conversation_id FROM inserted_messages)
       FOR KEY SHARE OF c;
    GET DIAGNOSTICS locked = ROW_COUNT;
    IF locked < wanted THEN
        RAISE foreign_key_violation
            USING MESSAGE = format('%s of %s conversations named by new messages do not exist', wanted - locked, wanted),
                  HINT = 'Create the conversation first, in the same organization as its messages.';
    END IF;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION botrt_messages_check_conversations() IS 'Statement-level foreign key check of messages.conversation_id.';
CREATE TRIGGER messages_conversation_exists
    AFTER INSERT ON messages REFERENCING NEW TABLE AS inserted_messages
    FOR EACH STATEMENT EXECUTE FUNCTION botrt_messages_check_conversations();

CREATE FUNCTION botrt_messages_keep_conversation() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    IF NEW.conversation_id IS DISTINCT FROM OLD.conversation_id THEN
        RAISE foreign_key_violation USING MESSAGE = 'a message cannot move to another conversation';
    END IF;
    RETURN NEW;
END
$$;
COMMENT ON FUNCTION botrt_messages_keep_conversation() IS 'Refuses to change messages.conversation_id.';
-- A column-list trigger: status updates, the common case, do not fire it.
CREATE TRIGGER messages_conversation_fixed
    BEFORE UPDATE OF conversation_id ON messages
    FOR EACH ROW EXECUTE FUNCTION botrt_messages_keep_conversation();

CREATE FUNCTION botrt_conversations_cascade_messages() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
BEGIN
    DELETE FROM messages m USING deleted_conversations d WHERE m.conversation_id = d.id;
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION botrt_conversations_cascade_messages() IS 'ON DELETE CASCADE from conversations to messages.';
CREATE TRIGGER conversations_cascade_messages
    AFTER DELETE ON conversations REFERENCING OLD TABLE AS deleted_conversations
    FOR EACH STATEMENT EXECUTE FUNCTION botrt_conversations_cascade_messages();
