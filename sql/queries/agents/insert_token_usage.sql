-- Tokens of one LLM call as two usage events; the idempotency key makes a retry count once.
INSERT INTO usage_events (org_id, bot_id, conversation_id, metric, quantity, idempotency_key, attributes, occurred_at)
SELECT $1, $2, $3, m.metric, m.quantity, $4 || ':' || m.metric, $5, to_timestamp($8)
FROM (VALUES ('llm_prompt_tokens', $6::bigint), ('llm_completion_tokens', $7::bigint)) AS m(metric, quantity)
WHERE m.quantity > 0
ON CONFLICT (org_id, idempotency_key, occurred_at) DO NOTHING;
