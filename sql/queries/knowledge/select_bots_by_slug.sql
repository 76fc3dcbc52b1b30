-- Live bots with this slug in any organization (as the owner), for commands that name a bot.
SELECT b.org_id, b.id AS bot_id, o.slug AS org_slug
  FROM bots b
  JOIN organizations o ON o.id = b.org_id
 WHERE b.slug = $1 AND b.deleted_at IS NULL AND o.deleted_at IS NULL
 ORDER BY o.slug;
