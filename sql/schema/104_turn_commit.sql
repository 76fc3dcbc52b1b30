-- domain: Conversations and analytics
-- Committing turns in one round trip, as 102 and 103 do for arrivals and sends.
--
-- A turn batch was BEGIN, acting for the org, the conversations' update, the inbound rows
-- marked processed, the outbound rows inserted, and COMMIT: six round trips per batch, each
-- waiting its turn on a busy event loop while the lanes behind it waited too. Both functions
-- are SECURITY INVOKER: they act for ORG as storage does, under row-level security.

-- One organization's messages; every column but org a jsonb array (row i of each is message
-- i), because asyncpg encodes a PostgreSQL array element by element and a jsonb array in one
-- msgspec call (docs/benchmarks.md, "Message inserts"). Used by botrt_commit_turns and by
-- sql/queries/messages/insert_messages.sql.
CREATE FUNCTION botrt_insert_messages(
    org uuid, ids jsonb, conversation_ids jsonb, directions jsonb, seqs jsonb, external_ids jsonb,
    kinds jsonb, texts jsonb, bodies jsonb, statuses jsonb, ts jsonb
) RETURNS void
    LANGUAGE plpgsql
    AS $$
BEGIN
    INSERT INTO messages (id, org_id, conversation_id, direction, seq, external_id, kind, text, body, status, created_at)
    SELECT t.id::uuid, org, t.conversation_id::uuid, t.direction, t.seq::integer, t.external_id, t.kind, t.text, t.body,
           t.status, to_timestamp(t.ts::float8)
    FROM ROWS FROM (
        jsonb_array_elements_text(ids), jsonb_array_elements_text(conversation_ids), jsonb_array_elements_text(directions),
        jsonb_array_elements_text(seqs), jsonb_array_elements_text(external_ids), jsonb_array_elements_text(kinds),
        jsonb_array_elements_text(texts), jsonb_array_elements(bodies), jsonb_array_elements_text(statuses),
        jsonb_array_elements_text(ts)
    ) AS t(id, conversation_id, direction, seq, external_id, kind, text, body, status, ts);
END
$$;
COMMENT ON FUNCTION botrt_insert_messages(uuid, jsonb, jsonb, jsonb, jsonb, jsonb, jsonb, jsonb, jsonb, jsonb, jsonb)
    IS 'Inserts one organization''s messages from jsonb column arrays (the caller acts for ORG).';
GRANT EXECUTE ON FUNCTION botrt_insert_messages(uuid, jsonb, jsonb, jsonb, jsonb, jsonb, jsonb, jsonb, jsonb, jsonb, jsonb)
    TO botrt_app;

-- One organization's turns: each conversation's latest state (conversation_ids, states as a
-- jsonb array, last_seqs, conversation_statuses), the inbound messages the turns answered
-- marked processed with any voice-note transcript (processed_*), and the replies inserted
-- (the message columns, as for botrt_insert_messages).
CREATE FUNCTION botrt_commit_turns(
    org uuid,
    conversation_ids uuid[], states jsonb, last_seqs integer[], conversation_statuses text[],
    processed_ids uuid[], processed_ts float8[], transcripts text[],
    ids jsonb, message_conversation_ids jsonb, directions jsonb, seqs jsonb, external_ids jsonb,
    kinds jsonb, texts jsonb, bodies jsonb, statuses jsonb, ts jsonb
) RETURNS void
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM set_config('botrt.org_id', org::text, true);
    UPDATE conversations c
    SET state = t.state, last_seq = t.last_seq, status = t.status, last_message_at = now(),
        ended_at = CASE WHEN t.status = 'ended' THEN coalesce(c.ended_at, now()) END
    FROM ROWS FROM (unnest(conversation_ids), jsonb_array_elements(states), unnest(last_seqs), unnest(conversation_statuses))
        AS t(id, state, last_seq, status)
    WHERE c.id = t.id;
    IF cardinality(processed_ids) > 0 THEN
        -- created_at lets PostgreSQL prune to one partition.
        UPDATE messages m
        SET status = 'processed',
            text = coalesce(t.transcript, m.text),
            body = CASE WHEN t.transcript IS NULL THEN m.body ELSE m.body || jsonb_build_object('transcript', t.transcript) END
        FROM unnest(processed_ids, processed_ts, transcripts) AS t(id, ts, transcript)
        WHERE m.id = t.id AND m.created_at = to_timestamp(t.ts) AND m.status = 'pending';
    END IF;
    IF jsonb_array_length(ids) > 0 THEN
        PERFORM botrt_insert_messages(org, ids, message_conversation_ids, directions, seqs, external_ids, kinds, texts,
                                      bodies, statuses, ts);
    END IF;
END
$$;
COMMENT ON FUNCTION botrt_commit_turns(uuid, uuid[], jsonb, integer[], text[], uuid[], float8[], text[], jsonb, jsonb, jsonb, jsonb, jsonb, jsonb, jsonb, jsonb, jsonb, jsonb)
    IS 'Commits one organization''s turns: conversation state, inbound processed, replies stored, acting for ORG.';
GRANT EXECUTE ON FUNCTION botrt_commit_turns(uuid, uuid[], jsonb, integer[], text[], uuid[], float8[], text[], jsonb, jsonb, jsonb, jsonb, jsonb, jsonb, jsonb, jsonb, jsonb, jsonb)
    TO botrt_app;
