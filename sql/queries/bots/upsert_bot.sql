INSERT INTO bots (org_id, slug, name, definition)
VALUES ($1, $2, $3, $4)
ON CONFLICT (org_id, slug) DO UPDATE
    SET name = EXCLUDED.name, definition = EXCLUDED.definition, deleted_at = NULL
RETURNING id;
