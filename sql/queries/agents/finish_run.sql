UPDATE agent_runs
SET status = $2, steps = $3, prompt_tokens = $4, completion_tokens = $5, error = $6,
    finished_at = to_timestamp($7)
WHERE id = $1;
