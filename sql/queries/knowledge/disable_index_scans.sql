-- Benchmark (loadtests/knowledge.py): Exact search for comparison: no index scans in this transaction.
SELECT set_config('enable_indexscan', 'off', true), set_config('enable_bitmapscan', 'off', true);
