-- domain: Knowledge bases
-- Full-text search for the runtime role. Under row-level security PostgreSQL applies the tenant
-- policy before any qual that is not leakproof, and @@ (ts_match_vq) is not: as botrt_app a
-- full-text query cannot use the GIN index and tests every chunk of the tenant instead
-- (18.6 ms against 0.3 ms on 20k chunks, growing with the tenant). This function runs as its
-- owner, where no policy applies, and applies the same tenant predicate itself
-- (org_id = botrt_current_org(), which is NULL with no organization set, so nothing matches).
-- It returns chunk ids and scores only; the caller reads the rows under its own policy.
--
-- Ranking reads every match's tsvector, so a query of common words (tens of thousands of
-- matches on 100k chunks) would cost 100+ ms: at most scan_limit matches, as the GIN bitmap
-- yields them, are ranked. Only bitmap scans are allowed here, because with that LIMIT and no
-- ORDER BY the planner would otherwise bet on a sequential scan ending early.
CREATE FUNCTION botrt_knowledge_text_search(knowledge_base uuid, query tsquery, top_k integer, scan_limit integer)
    RETURNS TABLE (chunk_id uuid, score real)
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = public, pg_temp
    SET enable_seqscan = off
    SET enable_indexscan = off
    AS $$
    SELECT m.id, ts_rank_cd(m.tsv, query)
      FROM (SELECT c.id, c.tsv
              FROM knowledge_chunks c
             WHERE c.org_id = botrt_current_org()
               AND c.knowledge_base_id = knowledge_base
               AND c.tsv @@ query
             LIMIT scan_limit) AS m
     ORDER BY 2 DESC, m.id
     LIMIT top_k
$$;
COMMENT ON FUNCTION botrt_knowledge_text_search(uuid, tsquery, integer, integer)
    IS 'The best full-text matches in a knowledge base of the current organization, using the GIN index.';
REVOKE EXECUTE ON FUNCTION botrt_knowledge_text_search(uuid, tsquery, integer, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION botrt_knowledge_text_search(uuid, tsquery, integer, integer) TO botrt_app;
