-- A document's chunks in one statement through unnest (COPY is refused under row-level
-- security). The tsvector is generated from content in the knowledge base's language.
INSERT INTO knowledge_chunks
    (org_id, knowledge_base_id, document_id, ordinal, content, token_count, language, embedding, metadata)
SELECT $1, kb.id, $3, t.ordinal, t.content, t.words, kb.language, t.embedding, t.metadata
  FROM unnest($4::int[], $5::text[], $6::int[], $7::vector[], $8::jsonb[])
           AS t(ordinal, content, words, embedding, metadata)
 CROSS JOIN (SELECT id, language FROM knowledge_bases WHERE id = $2) AS kb;
