-- Benchmark (loadtests/knowledge.py): Index build settings for this session: the whole 100k x 384 graph fits in memory (pgvector
-- otherwise spills and builds several times slower), and the leader gets parallel workers.
SELECT set_config('maintenance_work_mem', $1::text, false),
       set_config('max_parallel_maintenance_workers', $2::int::text, false);
