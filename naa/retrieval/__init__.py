"""Knowledge-base retrieval: load documents, index them with FAISS, find the passages for a query."""

from naa.retrieval.base import Document, Passage, Retriever
from naa.retrieval.chunking import Chunk, chunk_documents
from naa.retrieval.config import FaissRetrieverConfig
from naa.retrieval.documents import SUPPORTED_EXTENSIONS, load_documents
from naa.retrieval.knowledge_base import DocumentInfo, IngestReport, KnowledgeBase
from naa.retrieval.rerank import CrossEncoderReranker

__all__ = [
    "SUPPORTED_EXTENSIONS",
    "Chunk",
    "CrossEncoderReranker",
    "Document",
    "DocumentInfo",
    "FaissRetrieverConfig",
    "IngestReport",
    "KnowledgeBase",
    "Passage",
    "Retriever",
    "chunk_documents",
    "load_documents",
]
