"""Knowledge bases: documents parsed, chunked and embedded into pgvector; hybrid retrieval."""

from engine.knowledge.errors import DocumentError, KnowledgeBaseNotFound
from engine.knowledge.service import KnowledgeService
from engine.knowledge.types import Citation, DocumentReport, IngestReport, KnowledgeAnswer

__all__ = [
    "Citation",
    "DocumentError",
    "DocumentReport",
    "IngestReport",
    "KnowledgeAnswer",
    "KnowledgeBaseNotFound",
    "KnowledgeService",
]
