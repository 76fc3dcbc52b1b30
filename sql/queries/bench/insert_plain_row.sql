INSERT INTO bench_plain_messages (id, org_id, conversation_id, direction, seq, external_id, kind, text, body, status)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10);
