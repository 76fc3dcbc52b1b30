-- Benchmark (loadtests/knowledge.py): Rebuilds the HNSW index over every chunk: the build time of 100k x 384.
REINDEX INDEX knowledge_chunks_embedding_idx;
