-- Benchmark (loadtests/knowledge.py): The plan of knowledge_vector_top.sql: it must scan the HNSW index.
EXPLAIN SELECT id FROM knowledge_chunks WHERE knowledge_base_id = $2 ORDER BY embedding <=> $1::vector LIMIT $3;
