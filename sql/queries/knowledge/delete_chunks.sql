-- The chunks of a document being replaced (inside the transaction that inserts the new ones).
DELETE FROM knowledge_chunks WHERE document_id = $1;
