-- One round trip before a search: the tenant, and the HNSW scan for this transaction only.
-- ef_search trades recall for time (loadtests/knowledge.py measures it); the iterative scan
-- keeps walking the graph when the bot's filter drops candidates, instead of returning fewer.
SELECT set_config('botrt.org_id', $1::text, true),
       set_config('hnsw.ef_search', $2::int::text, true),
       set_config('hnsw.iterative_scan', 'relaxed_order', true);
