-- Monthly partitions of messages from last month to three months ahead.
SELECT botrt_ensure_monthly_partitions('messages', now() - interval '1 month', 5);
