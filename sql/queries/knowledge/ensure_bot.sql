-- The ids of bot $2 of organization $1 (as the owner), registering both when missing so that
-- documents can be ingested before the first `botrt up`; existing rows are left as they are.
WITH new_org AS (
    INSERT INTO organizations (slug, name) VALUES ($1, $1)
    ON CONFLICT (slug) DO NOTHING
    RETURNING id
), org AS (
    SELECT id FROM new_org
    UNION ALL
    SELECT id FROM organizations WHERE slug = $1 AND deleted_at IS NULL
), new_bot AS (
    INSERT INTO bots (org_id, slug, name)
    SELECT id, $2, $3 FROM org
    ON CONFLICT (org_id, slug) DO NOTHING
    RETURNING id, org_id
)
SELECT org_id, id AS bot_id FROM new_bot
UNION ALL
SELECT b.org_id, b.id FROM bots b JOIN org ON b.org_id = org.id WHERE b.slug = $2 AND b.deleted_at IS NULL;
