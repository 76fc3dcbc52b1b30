-- The live document at uri $2 in knowledge base $1: what re-ingestion compares against.
SELECT id, content_sha256, status, chunk_count, metadata ->> 'embedding_model' AS embedding_model
  FROM knowledge_documents
 WHERE knowledge_base_id = $1 AND uri = $2 AND deleted_at IS NULL;
