-- What the classifier predicted for messages, batched (for review and fine-tuning data). The JSON
-- columns travel as text: a Python list would be read as an array dimension, not a JSON array.
INSERT INTO nlu_predictions (org_id, bot_id, conversation_id, message_id, text, intent_name, confidence, entities, ranking)
SELECT org_id, bot_id, conversation_id, message_id, text, intent_name, confidence, entities::jsonb, ranking::jsonb
FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::text[], $6::text[], $7::real[], $8::text[], $9::text[])
    AS t(org_id, bot_id, conversation_id, message_id, text, intent_name, confidence, entities, ranking);
