-- domain: Conversations and analytics
-- The hot path's updates find their rows by primary key, never through the pending index.
--
-- Every message is written pending and moves on within milliseconds (inbound: processed,
-- outbound: sent), so messages_pending_idx (created_at WHERE status = 'pending') holds almost
-- no live rows but one dead entry per message until vacuum reaches the partition. Written as
-- `status = 'pending'`, the guards of botrt_mark_sent and botrt_commit_turns implied that
-- index's predicate, and the planner (which counts live rows only) ANDed it into a bitmap
-- with the primary key: every looked-up row scanned the whole dead index. After a 20 s load
-- test a 30-row batch took 48 ms of server time instead of 0.6 ms, and it grew with the table
-- (docs/benchmarks.md, "Platform webhooks"). `status NOT IN (every other status)` means the
-- same under messages_status_check but implies no index predicate.
--
-- The second half of the same trap: PL/pgSQL keeps a generic plan per statement, made when the
-- function first ran. A plan made while the table (or a new month's partition) was nearly empty
-- reads it whole, a hash join over a sequential scan, and keeps doing so as it grows, until an
-- ANALYZE invalidates it: at 800 messages/s PostgreSQL spent most of its time in sequential
-- scans (perf: heapgettup, HeapTupleSatisfiesVisibility, textne). Every statement of these
-- functions finds its rows by key (the primary key, the dedupe key, the provider id), so they
-- run with enable_seqscan off: a scan of the whole table is never the plan, whatever the
-- statistics say when it is made. tests/storage/test_hot_path_plans.py keeps both so.

CREATE OR REPLACE FUNCTION botrt_mark_sent(org uuid, ids uuid[], ts float8[], provider_ids text[], notes text[])
    RETURNS void
    LANGUAGE plpgsql
    AS $$
BEGIN
    PERFORM set_config('botrt.org_id', org::text, true);
    UPDATE messages m
    SET status = 'sent',
        external_id = t.provider_id,
        body = CASE WHEN t.note IS NULL THEN m.body ELSE m.body || jsonb_build_object('note', t.note) END
    FROM unnest(ids, ts, provider_ids, notes) AS t(id, ts, provider_id, note)
    WHERE m.id = t.id AND m.created_at = to_timestamp(t.ts)
      AND m.status NOT IN ('processed', 'sent', 'delivered', 'read', 'failed');  -- pending (see above)
END
$$;

CREATE OR REPLACE FUNCTION botrt_commit_turns(
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
        WHERE m.id = t.id AND m.created_at = to_timestamp(t.ts)
          AND m.status NOT IN ('processed', 'sent', 'delivered', 'read', 'failed');  -- pending (see above)
    END IF;
    IF jsonb_array_length(ids) > 0 THEN
        PERFORM botrt_insert_messages(org, ids, message_conversation_ids, directions, seqs, external_ids, kinds, texts,
                                      bodies, statuses, ts);
    END IF;
END
$$;

ALTER FUNCTION botrt_mark_sent(uuid, uuid[], float8[], text[], text[]) SET enable_seqscan = off;
ALTER FUNCTION botrt_commit_turns(uuid, uuid[], jsonb, integer[], text[], uuid[], float8[], text[], jsonb, jsonb, jsonb, jsonb, jsonb, jsonb, jsonb, jsonb, jsonb, jsonb)
    SET enable_seqscan = off;
ALTER FUNCTION botrt_accept_inbound(uuid, uuid[], text[], jsonb, jsonb, jsonb, jsonb, jsonb, jsonb, jsonb, text[], text[])
    SET enable_seqscan = off;
