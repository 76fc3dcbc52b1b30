-- A bot-file agent as a row (runs reference it); its settings are refreshed at every start.
INSERT INTO agents (org_id, bot_id, name, role, description, model, system_prompt, temperature,
                    max_steps, max_tokens_per_turn, config)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT (bot_id, name) DO UPDATE
    SET role = EXCLUDED.role, description = EXCLUDED.description, model = EXCLUDED.model,
        system_prompt = EXCLUDED.system_prompt, temperature = EXCLUDED.temperature,
        max_steps = EXCLUDED.max_steps, max_tokens_per_turn = EXCLUDED.max_tokens_per_turn,
        config = EXCLUDED.config, status = 'active'
RETURNING id;
