"""LangChain's own standard test-suite for retrievers (the ``langchain-tests`` package), run against
``assistant.surfaces.langchain.CasebookRetriever`` on the real index."""

from __future__ import annotations

from typing import Any

import pytest
from langchain_tests.integration_tests import RetrieversIntegrationTests

from assistant.casebook import Casebook
from assistant.surfaces.langchain import CasebookRetriever
from records.settings import Settings

_casebooks: dict[str, Casebook] = {}


@pytest.mark.slow
class TestCasebookRetrieverStandard(RetrieversIntegrationTests):
    @pytest.fixture(autouse=True)
    def _casebook(self, real_index: Settings) -> None:
        _casebooks.setdefault("real", Casebook(real_index))

    @property
    def retriever_constructor(self) -> type[CasebookRetriever]:
        return CasebookRetriever

    @property
    def retriever_constructor_params(self) -> dict[str, Any]:
        return {"casebook": _casebooks["real"]}

    @property
    def retriever_query_example(self) -> str:
        return "bruising in non-mobile babies"
