-- Benchmark (loadtests/knowledge.py): Every chunk with the document and ordinal it was written as, to map ids to corpus rows.
SELECT c.id, d.uri, c.ordinal FROM knowledge_chunks c JOIN knowledge_documents d ON d.id = c.document_id;
