-- Benchmark (loadtests/knowledge.py): What the figures were measured with.
SELECT current_setting('server_version') AS server_version,
       (SELECT extversion FROM pg_extension WHERE extname = 'vector') AS pgvector,
       current_setting('shared_buffers') AS shared_buffers,
       current_setting('maintenance_work_mem') AS maintenance_work_mem,
       current_setting('max_parallel_maintenance_workers') AS max_parallel_maintenance_workers,
       current_setting('max_worker_processes') AS max_worker_processes,
       pg_size_pretty(pg_relation_size('knowledge_chunks_embedding_idx')) AS hnsw_size,
       pg_size_pretty(pg_total_relation_size('knowledge_chunks')) AS table_size;
