-- domain: Knowledge bases
-- Documents -> chunks -> embeddings in pgvector (HNSW, cosine) plus a tsvector for PostgreSQL
-- full-text search; retrieval fuses both rankings. Documents are soft-deleted (deleted_at) so a
-- removal can be undone; retrieval reads live documents only (active_knowledge_chunks).

CREATE TABLE knowledge_bases (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id          uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    name            text NOT NULL,
    description     text NOT NULL DEFAULT '',
    -- Text search configuration new chunks are indexed with.
    language        regconfig NOT NULL DEFAULT 'english',
    -- The model that produced the embeddings; 384 dimensions (all-MiniLM-L6-v2 and kin).
    embedding_model text,
    chunk_size      integer NOT NULL DEFAULT 800 CHECK (chunk_size BETWEEN 64 AND 8000),
    chunk_overlap   integer NOT NULL DEFAULT 100 CHECK (chunk_overlap >= 0),
    settings        jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(settings) = 'object'),
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (org_id, name),
    CHECK (chunk_overlap < chunk_size)
);
COMMENT ON TABLE knowledge_bases IS 'Collections of documents a bot answers from.';
CREATE TRIGGER knowledge_bases_touch BEFORE UPDATE ON knowledge_bases
    FOR EACH ROW EXECUTE FUNCTION botrt_touch_updated_at();

CREATE TABLE bot_knowledge_bases (
    org_id            uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    bot_id            uuid NOT NULL REFERENCES bots (id) ON DELETE CASCADE,
    knowledge_base_id uuid NOT NULL REFERENCES knowledge_bases (id) ON DELETE CASCADE,
    priority          integer NOT NULL DEFAULT 100,
    created_at        timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (bot_id, knowledge_base_id)
);
COMMENT ON TABLE bot_knowledge_bases IS 'Which knowledge bases a bot searches.';
CREATE INDEX bot_knowledge_bases_org_id_idx ON bot_knowledge_bases (org_id);
CREATE INDEX bot_knowledge_bases_knowledge_base_id_idx ON bot_knowledge_bases (knowledge_base_id);

CREATE TABLE knowledge_sources (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id            uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    knowledge_base_id uuid NOT NULL REFERENCES knowledge_bases (id) ON DELETE CASCADE,
    kind              text NOT NULL CHECK (kind IN ('upload', 'url', 'sitemap', 'text', 'bot_file')),
    -- url and sitemap sources need {"url": "..."}; others may carry options.
    config            jsonb NOT NULL DEFAULT '{}' CHECK (
                          jsonb_typeof(config) = 'object'
                          AND (kind NOT IN ('url', 'sitemap') OR jsonb_typeof(config -> 'url') IS NOT DISTINCT FROM 'string')),
    sync_interval     interval CHECK (sync_interval >= interval '5 minutes'),
    status            text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'paused', 'error')),
    last_synced_at    timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE knowledge_sources IS 'Where documents come from (uploads, URLs, sitemaps, bot files), with sync schedule.';
CREATE INDEX knowledge_sources_org_id_idx ON knowledge_sources (org_id);
CREATE INDEX knowledge_sources_knowledge_base_id_idx ON knowledge_sources (knowledge_base_id);
CREATE TRIGGER knowledge_sources_touch BEFORE UPDATE ON knowledge_sources
    FOR EACH ROW EXECUTE FUNCTION botrt_touch_updated_at();

CREATE TABLE knowledge_documents (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id            uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    knowledge_base_id uuid NOT NULL REFERENCES knowledge_bases (id) ON DELETE CASCADE,
    source_id         uuid REFERENCES knowledge_sources (id) ON DELETE SET NULL,
    title             text NOT NULL,
    uri               text,
    mime_type         text NOT NULL DEFAULT 'text/plain',
    content_sha256    bytea CHECK (octet_length(content_sha256) = 32),
    byte_size         bigint CHECK (byte_size >= 0),
    status            text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'processing', 'ready', 'failed')),
    error             text,
    chunk_count       integer NOT NULL DEFAULT 0 CHECK (chunk_count >= 0),
    metadata          jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    deleted_at        timestamptz
);
COMMENT ON TABLE knowledge_documents IS 'Documents of a knowledge base; soft-deleted with deleted_at.';
CREATE INDEX knowledge_documents_org_id_idx ON knowledge_documents (org_id);
CREATE INDEX knowledge_documents_knowledge_base_id_idx ON knowledge_documents (knowledge_base_id);
CREATE INDEX knowledge_documents_source_id_idx ON knowledge_documents (source_id);
CREATE UNIQUE INDEX knowledge_documents_uri_key ON knowledge_documents (knowledge_base_id, uri)
    WHERE deleted_at IS NULL AND uri IS NOT NULL;
CREATE TRIGGER knowledge_documents_touch BEFORE UPDATE ON knowledge_documents
    FOR EACH ROW EXECUTE FUNCTION botrt_touch_updated_at();

CREATE TABLE knowledge_chunks (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id            uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    knowledge_base_id uuid NOT NULL REFERENCES knowledge_bases (id) ON DELETE CASCADE,
    document_id       uuid NOT NULL REFERENCES knowledge_documents (id) ON DELETE CASCADE,
    ordinal           integer NOT NULL CHECK (ordinal >= 0),
    content           text NOT NULL,
    token_count       integer CHECK (token_count >= 0),
    language          regconfig NOT NULL DEFAULT 'english',
    tsv               tsvector GENERATED ALWAYS AS (to_tsvector(language, content)) STORED,
    -- NULL until embedded, and for good when no embedder is installed (full-text search only).
    embedding         vector(384),
    -- Where in the document: {"page": n, "heading": "...", "start": n, "end": n}.
    metadata          jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(metadata) = 'object'),
    created_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (document_id, ordinal)
);
COMMENT ON TABLE knowledge_chunks IS 'Passages of documents with a 384-d embedding (HNSW) and a tsvector (GIN).';
CREATE INDEX knowledge_chunks_org_id_idx ON knowledge_chunks (org_id);
CREATE INDEX knowledge_chunks_knowledge_base_id_idx ON knowledge_chunks (knowledge_base_id);
CREATE INDEX knowledge_chunks_embedding_idx ON knowledge_chunks
    USING hnsw (embedding vector_cosine_ops) WITH (m = 16, ef_construction = 64);
CREATE INDEX knowledge_chunks_tsv_idx ON knowledge_chunks USING gin (tsv);

CREATE TABLE knowledge_ingestion_jobs (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id            uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    knowledge_base_id uuid NOT NULL REFERENCES knowledge_bases (id) ON DELETE CASCADE,
    source_id         uuid REFERENCES knowledge_sources (id) ON DELETE SET NULL,
    document_id       uuid REFERENCES knowledge_documents (id) ON DELETE SET NULL,
    kind              text NOT NULL CHECK (kind IN ('ingest', 'reembed', 'sync', 'purge')),
    status            text NOT NULL DEFAULT 'queued'
                      CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    attempts          integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    error             text,
    -- Counters: {"documents": n, "chunks": n, "embedded": n}.
    stats             jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(stats) = 'object'),
    queued_at         timestamptz NOT NULL DEFAULT now(),
    started_at        timestamptz,
    finished_at       timestamptz
);
COMMENT ON TABLE knowledge_ingestion_jobs IS 'Background jobs that parse, chunk and embed documents.';
CREATE INDEX knowledge_ingestion_jobs_org_id_idx ON knowledge_ingestion_jobs (org_id);
CREATE INDEX knowledge_ingestion_jobs_knowledge_base_id_idx ON knowledge_ingestion_jobs (knowledge_base_id);
CREATE INDEX knowledge_ingestion_jobs_source_id_idx ON knowledge_ingestion_jobs (source_id);
CREATE INDEX knowledge_ingestion_jobs_document_id_idx ON knowledge_ingestion_jobs (document_id);
CREATE INDEX knowledge_ingestion_jobs_queued_idx ON knowledge_ingestion_jobs (queued_at) WHERE status = 'queued';

CREATE TABLE knowledge_queries (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id            uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    knowledge_base_id uuid REFERENCES knowledge_bases (id) ON DELETE CASCADE,
    conversation_id   uuid REFERENCES conversations (id) ON DELETE SET NULL,
    query             text NOT NULL,
    mode              text NOT NULL CHECK (mode IN ('vector', 'fulltext', 'hybrid')),
    top_k             integer NOT NULL CHECK (top_k > 0),
    -- Ranked hits: [{"chunk_id", "score", "rank"}], the citations an answer can give.
    results           jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(results) = 'array'),
    latency_ms        integer CHECK (latency_ms >= 0),
    created_at        timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE knowledge_queries IS 'Retrieval log: each search, its mode and ranked hits.';
CREATE INDEX knowledge_queries_org_created_idx ON knowledge_queries (org_id, created_at);
CREATE INDEX knowledge_queries_knowledge_base_id_idx ON knowledge_queries (knowledge_base_id);
CREATE INDEX knowledge_queries_conversation_id_idx ON knowledge_queries (conversation_id);
