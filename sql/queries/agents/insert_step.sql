INSERT INTO agent_run_steps (org_id, run_id, step_no, kind, status, request, response,
                             prompt_tokens, completion_tokens, latency_ms)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
ON CONFLICT (run_id, step_no) DO NOTHING;
