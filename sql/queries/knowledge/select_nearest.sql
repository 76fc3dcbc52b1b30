-- Benchmark (loadtests/knowledge.py): The vector half of the product's search alone: k nearest chunks of one knowledge base.
SELECT id FROM knowledge_chunks WHERE knowledge_base_id = $2 ORDER BY embedding <=> $1::vector LIMIT $3;
