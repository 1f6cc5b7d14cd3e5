"""Casebook's retrieval as a LangChain ``BaseRetriever``, for people who build their own chains.

Each returned ``Document`` is one retrieved source's best passage, exactly as stored, with the
citation fields (``source_id``, ``title``, ``year``, ``area``, ``kind``, ``score``) as metadata.
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from assistant.surfaces.shapes import source_dict
from records.types import Filters


class CasebookRetriever(BaseRetriever):
    model_config = ConfigDict(arbitrary_types_allowed=True)

    casebook: Any
    k: int = 5
    filters: Filters = Filters()

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun, k: int | None = None) -> list[Document]:
        hits = self.casebook.search(query, k=k or self.k, filters=self.filters)
        docs: list[Document] = []
        for hit in hits:
            fields = source_dict(hit)
            text = fields.pop("text")
            docs.append(Document(page_content=text, metadata=fields, id=fields["chunk_id"]))
        return docs
