-- Acts for one organization until the end of the current transaction (row-level security).
SELECT set_config('botrt.org_id', $1::text, true);
