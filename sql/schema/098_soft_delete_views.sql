-- domain: Soft delete
-- Organizations, users, bots and knowledge documents are soft-deleted: deleted_at is set and the
-- row stays, so the deletion can be undone by clearing it. These views show what is live. They
-- are security_invoker, so the caller's privileges and row-level security apply through them
-- (a view otherwise reads as its owner and would bypass RLS).

CREATE VIEW active_organizations WITH (security_invoker = true) AS
SELECT * FROM organizations WHERE deleted_at IS NULL;
COMMENT ON VIEW active_organizations IS 'Organizations not soft-deleted.';

CREATE VIEW active_users WITH (security_invoker = true) AS
SELECT * FROM users WHERE deleted_at IS NULL;
COMMENT ON VIEW active_users IS 'Users not soft-deleted.';

-- A bot of a deleted organization is gone with it.
CREATE VIEW active_bots WITH (security_invoker = true) AS
SELECT b.*
  FROM bots b
 WHERE b.deleted_at IS NULL
   AND EXISTS (SELECT FROM organizations o WHERE o.id = b.org_id AND o.deleted_at IS NULL);
COMMENT ON VIEW active_bots IS 'Bots not soft-deleted, of organizations not soft-deleted.';

CREATE VIEW active_knowledge_documents WITH (security_invoker = true) AS
SELECT * FROM knowledge_documents WHERE deleted_at IS NULL;
COMMENT ON VIEW active_knowledge_documents IS 'Knowledge documents not soft-deleted.';

-- What retrieval searches: chunks of live documents.
CREATE VIEW active_knowledge_chunks WITH (security_invoker = true) AS
SELECT c.*
  FROM knowledge_chunks c
 WHERE EXISTS (SELECT FROM knowledge_documents d WHERE d.id = c.document_id AND d.deleted_at IS NULL);
COMMENT ON VIEW active_knowledge_chunks IS 'Knowledge chunks of documents not soft-deleted.';
