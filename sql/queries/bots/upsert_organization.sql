INSERT INTO organizations (slug, name)
VALUES ($1, $2)
ON CONFLICT (slug) DO UPDATE SET deleted_at = NULL
RETURNING id;
