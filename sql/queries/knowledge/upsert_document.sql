-- Creates the document or takes over the live one at the same uri, but only when its content,
-- status or embedding model differ: no row back means another writer already stored this very
-- content. The row stays locked until commit, so two ingests of one document take turns.
INSERT INTO knowledge_documents
    (org_id, knowledge_base_id, uri, title, mime_type, content_sha256, byte_size, status, chunk_count, metadata)
VALUES ($1, $2, $3, $4, $5, $6, $7, 'ready', $8, $9)
ON CONFLICT (knowledge_base_id, uri) WHERE deleted_at IS NULL AND uri IS NOT NULL DO UPDATE
    SET title = EXCLUDED.title,
        mime_type = EXCLUDED.mime_type,
        content_sha256 = EXCLUDED.content_sha256,
        byte_size = EXCLUDED.byte_size,
        status = 'ready',
        error = NULL,
        chunk_count = EXCLUDED.chunk_count,
        metadata = EXCLUDED.metadata
    WHERE knowledge_documents.content_sha256 IS DISTINCT FROM EXCLUDED.content_sha256
       OR knowledge_documents.status <> 'ready'
       OR knowledge_documents.metadata ->> 'embedding_model' IS DISTINCT FROM EXCLUDED.metadata ->> 'embedding_model'
RETURNING id, (xmax = 0) AS created;
