INSERT INTO agent_runs (id, org_id, agent_id, conversation_id, parent_run_id, model, started_at)
VALUES ($1, $2, $3, $4, $5, $6, to_timestamp($7));
