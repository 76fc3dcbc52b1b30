-- Benchmark (loadtests/knowledge.py): Fresh statistics after the bulk load, as autovacuum would gather them.
ANALYZE knowledge_chunks, knowledge_documents;
