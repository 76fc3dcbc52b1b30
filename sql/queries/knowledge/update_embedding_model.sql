-- Records which model embedded the knowledge base (vector search compares only like with like).
UPDATE knowledge_bases SET embedding_model = $2
 WHERE id = $1 AND embedding_model IS DISTINCT FROM $2;
