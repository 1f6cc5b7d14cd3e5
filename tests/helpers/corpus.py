"""A small hand-written collection and the index built from it with ``FakeEmbedder``, in under a second.

Two kinds of material, ingested the way Casebook ingests them, into real on-disk Chroma:

- ``DOCUMENTS``: a practitioner's own .txt and .md notes, ingested with ``Casebook.ingest([folder])``
  (kind "document"; the nation is read from the text, so the Welsh note is filed under Wales);
- ``LISTING``: four case reviews in the NSPCC listing format, parsed by the real listing parser and
  chunked by the real chunker, then written through the store and the ledger exactly as ingest
  writes them. Users' files never become case reviews, and only reviews carry a year, an age band,
  an outcome and NSPCC keywords, which the filters need.
"""

from __future__ import annotations

from pathlib import Path

from ingest.chunking import chunk_document
from ingest.nspcc import assign_ids, parse_listing, review_document
from records.settings import Settings, load_settings
from records.types import Document
from tests.helpers.fakes import FakeEmbedder
from vectorstore.ledger import Ledger
from vectorstore.store import open_store

# The fake embedder's relevance model (the packaged one was fitted to MiniLM's cosines).
COSINE_RELEVANCE = Path(__file__).with_name("cosine_relevance.toml")

DOCUMENTS: dict[str, str] = {
    "bruising-babies.txt": (
        "Bruising in non-mobile babies\n\n"
        "A four-month-old baby was taken to hospital with bruising to the face and ear. "
        "The health visitor had seen a small bruise two weeks earlier and accepted the parents' explanation. "
        "Learning includes: any bruising in a non-mobile baby must be referred to children's social care; "
        "practitioners should follow the local bruising protocol without exception; "
        "explanations from parents need professional curiosity and checking.\n"
    ),
    "safe-sleep.md": (
        "# Safe sleep\n\n"
        "An infant died after co-sleeping on a sofa with a parent who had been drinking alcohol. "
        "Learning includes: safe sleep advice must be repeated at every contact with the family; "
        "co-sleeping after drinking alcohol greatly increases the risk of sudden unexpected death in infancy. "
        "Recommendations include: give fathers the same safe sleep advice as mothers.\n"
    ),
    "neglect-wales.txt": (
        "Neglect of a toddler in Wales\n\n"
        "A two-year-old in Wales lived with chronic neglect for several years before anyone acted. "
        "Home visits were cancelled repeatedly and nobody saw the child's bedroom. "
        "Learning includes: cancelled home visits should trigger a review of the child protection plan; "
        "practitioners in Wales must record who they saw and where the child sleeps at each visit.\n"
    ),
    "exploitation.md": (
        "# Criminal exploitation in England\n\n"
        "A fifteen-year-old boy in England was criminally exploited to carry drugs between towns. "
        "His school in England noticed repeated missing episodes and falling attendance. "
        "Learning includes: repeated missing episodes are a sign of exploitation; "
        "return home interviews should be offered after every missing episode.\n"
    ),
    "interpreters.txt": (
        "Working with interpreters\n\n"
        "Professionals relied on a ten-year-old girl to interpret for her mother at medical appointments. "
        "Learning includes: always book an independent interpreter for a parent who needs one; "
        "never ask a child to interpret during a safeguarding conversation.\n"
    ),
}

LISTING_FILE = "fixture-listing.txt"
LISTING = """Case reviews published in 2020

2020 – Cardiff – Baby Cara

Death of a 3-month-old girl in March 2019. Cara died while sleeping on a sofa with her father, who had drunk alcohol. Learning includes: safe sleep advice should be given to fathers as well as mothers; practitioners should ask where the baby sleeps at every home visit; the risks of co-sleeping after alcohol need to be explained plainly. Recommendations include: health visitors to record who received safe sleep advice; midwives to repeat safe sleep advice before discharge. Keywords : safe sleep, fathers, alcohol misuse > Read the overview report

Case reviews published in 2021

2021 – Leeds – Child Dan

Serious injuries to a 2-year-old boy in January 2020. Dan had bruising that nursery staff recorded but did not share. Learning includes: nursery staff should share concerns about bruising with children's social care; professionals need to be confident to challenge the explanations that parents give; cumulative harm can be missed when injuries are seen one at a time. Recommendations include: agencies to develop a shared chronology of injuries for each child. Keywords : physical abuse, bruising, early years > Read the executive summary

Case reviews published in 2022

2022 – Swansea – Young Person Ellis

Death of a 16-year-old boy in 2021. Ellis was stabbed after months of criminal exploitation by older men. Learning includes: missing episodes should prompt a return home interview every time; schools should share concerns about exploitation with the safeguarding partnership. Recommendations include: the partnership to map contextual safeguarding risks in the town centre. Keywords : child criminal exploitation, knife crime > Read the overview report

Case reviews published in 2023

2023 – Kent – Children F

Three siblings lived in poor home conditions over several years. The family moved home often and the children missed health appointments. Learning includes: neglect is easy to miss when a family moves between areas; practitioners should look at the whole history of missed appointments. Recommendations include: transfer the full case records whenever a family moves to a new area. Keywords : neglect, missed appointments > Read the overview report
"""

# What the listing holds, for assertions that do not re-derive it from the code under test.
REVIEWS = {
    "nspcc-2020-cardiff-baby-cara": {"year": 2020, "nation": "Wales", "age_band": "under 1", "outcome": "death"},
    "nspcc-2021-leeds-child-dan": {"year": 2021, "nation": "England", "age_band": "1-4", "outcome": "serious harm"},
    "nspcc-2022-swansea-young-person-ellis": {"year": 2022, "nation": "Wales", "age_band": "16-17", "outcome": "death"},
    "nspcc-2023-kent-children-f": {"year": 2023, "nation": "England", "age_band": "multiple/unknown", "outcome": "other"},
}


def write_documents(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in DOCUMENTS.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


def review_documents() -> list[Document]:
    reviews = assign_ids(parse_listing(LISTING, LISTING_FILE))
    return [review_document(r, LISTING, "fixture listing") for r in reviews]


def add_reviews(settings: Settings, embedder: FakeEmbedder) -> None:
    """Write the listing's reviews through the store and the ledger, as ingest's group write does."""
    docs = review_documents()
    chunked = [(doc, chunk_document(doc, settings.chunk_max_tokens)) for doc in docs]
    chunks = [c for _, cs in chunked for c in cs]
    ledger = Ledger(settings.state_path)
    try:
        ledger.mark_writing((doc, LISTING_FILE, doc.fingerprint("fixture"), len(cs)) for doc, cs in chunked)
        open_store(settings).upsert(chunks, embedder.embed([c.embed_text for c in chunks]))
        ledger.mark_done(doc.doc_id for doc in docs)
    finally:
        ledger.close()


def build_index(root: Path) -> Settings:
    """The notes ingested with ``Casebook.ingest``, then the reviews; settings point at the index."""
    from assistant.casebook import Casebook

    settings = load_settings(env={"CASEBOOK_HOME": str(root / "home"), "CASEBOOK_RELEVANCE_MODEL": str(COSINE_RELEVANCE)})
    embedder = FakeEmbedder()
    report = Casebook(settings, embedder=embedder).ingest([write_documents(root / "notes")])
    assert report.documents == len(DOCUMENTS) and not report.errors, report.as_dict()
    add_reviews(settings, embedder)
    return settings


def source_text(source_file: str) -> str:
    """The normalised text a fixture passage's offsets refer to."""
    return LISTING if source_file == LISTING_FILE else Path(source_file).read_text(encoding="utf-8")
