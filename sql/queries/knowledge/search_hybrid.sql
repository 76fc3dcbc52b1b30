-- Hybrid retrieval for bot $3: the $5 nearest chunks by cosine distance (HNSW) and the $5 best
-- full-text matches (ts_rank_cd), fused by reciprocal rank fusion with k = 60:
-- score = sum over both rankings of 1 / (60 + rank). Ranks, not raw scores, are fused because
-- cosine distances and ts_rank_cd live on unrelated scales. $1 NULL: full text only.
-- $4 narrows to one knowledge base by name; $7 is the embedder's model, whose vectors alone
-- are comparable with the query's. Row-level security confines everything to the tenant.
-- The full-text query is plain words (plainto_tsquery: chat users write no search syntax, and
-- websearch syntax would read a question's "or" as an operator): every word must match, so that
-- next to the vector ranking it adds precise keyword hits and not noise. $8 true (full text
-- only, with no vector ranking to lean on) turns its ANDs into ORs: a question rarely shares
-- every word with its answer, and ts_rank_cd ranks fuller matches first.
WITH kbs AS MATERIALIZED (
    SELECT kb.id, kb.embedding_model,
           CASE WHEN $8::boolean
                THEN replace(plainto_tsquery(kb.language, $2)::text, ' & ', ' | ')::tsquery
                ELSE plainto_tsquery(kb.language, $2) END AS query
      FROM bot_knowledge_bases l
      JOIN knowledge_bases kb ON kb.id = l.knowledge_base_id
     WHERE l.bot_id = $3 AND ($4::text IS NULL OR kb.name = $4)
), vector_hits AS MATERIALIZED (
    SELECT c.id, c.embedding <=> $1::vector AS distance
      FROM knowledge_chunks c
     WHERE $1::vector IS NOT NULL
       AND c.knowledge_base_id IN (SELECT id FROM kbs WHERE embedding_model = $7)
     ORDER BY c.embedding <=> $1::vector
     LIMIT $5
), vector_ranked AS (
    -- relaxed_order may return near-ties out of order: rank by the exact distance.
    SELECT id, row_number() OVER (ORDER BY distance, id) AS rank FROM vector_hits
), text_hits AS MATERIALIZED (
    -- Per knowledge base, in its language, through botrt_knowledge_text_search: as botrt_app a
    -- plain @@ here could not use the GIN index. It ranks at most 500 matches of a query of
    -- common words (see sql/schema/089_knowledge_runtime.sql).
    SELECT t.chunk_id AS id, t.score
      FROM kbs
     CROSS JOIN LATERAL botrt_knowledge_text_search(kbs.id, kbs.query, $5::int, 500) AS t
     ORDER BY t.score DESC, t.chunk_id
     LIMIT $5
), text_ranked AS (
    SELECT id, row_number() OVER (ORDER BY score DESC, id) AS rank FROM text_hits
), fused AS MATERIALIZED (
    SELECT coalesce(v.id, t.id) AS id, v.rank AS vector_rank, t.rank AS text_rank,
           coalesce(1.0 / (60 + v.rank), 0) + coalesce(1.0 / (60 + t.rank), 0) AS score
      FROM vector_ranked v
      FULL JOIN text_ranked t ON t.id = v.id
)
SELECT p.chunk_id, p.document_id, p.content, p.ordinal, p.metadata, p.title, p.uri,
       f.score::float8 AS score, f.vector_rank::int AS vector_rank, f.text_rank::int AS text_rank,
       CASE WHEN $1::vector IS NOT NULL AND p.embedding IS NOT NULL
            THEN (1 - (p.embedding <=> $1::vector))::float8 END AS similarity
  FROM fused f
  -- One primary-key lookup per fused chunk (at most 2 x $5); OFFSET 0 keeps the planner from
  -- starting at the documents table instead when its statistics are stale.
  CROSS JOIN LATERAL (
        SELECT c.id AS chunk_id, c.document_id, c.content, c.ordinal, c.metadata, c.embedding, d.title, d.uri
          FROM knowledge_chunks c
          JOIN knowledge_documents d ON d.id = c.document_id AND d.deleted_at IS NULL
         WHERE c.id = f.id
        OFFSET 0
       ) AS p
 ORDER BY f.score DESC, similarity DESC NULLS LAST, p.chunk_id
 LIMIT $6;
