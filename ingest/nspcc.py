"""NSPCC case-review listings → ``Review`` records (and their ``Document`` for chunking).

Consumes the normalised text of a listing page (``ingest.sources.normalise``); produces one
``Review`` per ``YEAR – Area – Name`` entry with its fields sliced from the text at exact offsets.
Entries come in two shapes: header then one run-on paragraph (the 2019–2023 pages), or header then
one line per part (the 2025 page). Both are read by the same markers: ``Learning …:``,
``Recommendations …:``, ``Keywords:`` and ``> Read the overview report / executive summary``.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from records.errors import SourceError
from records.text import slugify
from records.types import DocMeta, Document, Review, Section

HEADER_RE = re.compile(
    r"^(?P<year>(?:19|20)\d\d)\s*[–—-]\s*(?P<area>.+?)(?:\s+[–—-]\s*|\s*[–—-]\s+)(?P<title>\S.*?)\s*$",
    re.MULTILINE,
)
# Text between listings that is not part of any entry ("Case reviews published in 2022 …").
SECTION_INTRO_RE = re.compile(r"^Case reviews published in \d{4}", re.MULTILINE)
# Markers open a part of the entry; the scrape sometimes lost the full stop before them.
_SENTENCE_START = r"(?:^|(?<=\s))"
LEARNING_RE = re.compile(_SENTENCE_START + r"(?:Key learning|Learning|Findings|Lessons)\b[^:.;\n]{0,60}:")
RECOMMENDATIONS_RE = re.compile(_SENTENCE_START + r"Recommendations?\b[^:.;\n]{0,60}:")
KEYWORDS_RE = re.compile(r"Keywords\s*:\s*")
REPORT_RE = re.compile(r">\s*Read the (overview report|executive summary)")

_NUMBER_WORDS = {
    w: i
    for i, w in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
            "twenty",
        ]
    )
}
_NUM = r"(\d{1,2}|" + "|".join(_NUMBER_WORDS) + r")"
_UNIT_MONTHS = {"day": 1 / 30.4375, "week": 7 / 30.4375, "month": 1.0, "year": 12.0}
AGE_RE = re.compile(
    rf"\b{_NUM}(?P<half>[- ]and[- ]a[- ]half)?[- ](?P<unit>day|week|month|year)s?"
    rf"(?:[- ]{_NUM}[- ](?P<unit2>month|week)s?)?[- ]old\b",
    re.IGNORECASE,
)
AGE_RANGE_RE = re.compile(rf"\b{_NUM}\s*(?:-|–|to)\s*{_NUM}[- ](?:day|week|month|year)s?[- ]old\b", re.IGNORECASE)
DEATH_RE = re.compile(
    r"\b(death|deaths|died|dies|dying|killed|murder(?:ed)?|suicide|fatal(?:ly)?|manslaughter|homicide|"
    r"suicides|filicide|stillbirth|stillborn|drowned|unlawful killing|took (?:her|his|their) own life)\b",
    re.IGNORECASE,
)
HARM_RE = re.compile(
    r"\b(injur\w*|harm\w*|abuse\w*|abusing|neglect\w*|exploit\w*|assault\w*|fractur\w*|bruis\w*|trauma\w*|"
    r"maltreat\w*|rape\w*|cruelty|violence|violent|overdose|burn\w*|scald\w*|malnutrition|malnourish\w*|"
    r"weight loss|nutritional failure|sexual offen\w*|life-threatening|attack\w*|traffick\w*|serious incident|"
    r"ingest\w*|poison\w*|strip search\w*)\b",
    re.IGNORECASE,
)
UNBORN_RE = re.compile(r"\b(unborn|stillbirth|stillborn|pre-?birth|in utero|during pregnancy)\b", re.IGNORECASE)
INFANT_RE = re.compile(r"\b(baby|babies|infant|newborn|new-born|neonat\w*)\b", re.IGNORECASE)
PLURAL_RE = re.compile(
    r"\b(children|siblings|brothers|sisters|boys|girls|twins|babies|young people|families|"
    r"two|three|four|five|six|seven|eight|nine|ten|\d+) (?:\w+ ){0,2}"
    r"(?:children|boys|girls|siblings|young people|babies|infants)\b"
    r"|\b(siblings|twins|several children|young people)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class _Areas:
    by_nation: dict[str, list[re.Pattern[str]]]
    unknown: set[str]


def _load_areas() -> _Areas:
    with open(Path(__file__).parent / "areas.toml", "rb") as fh:
        data = tomllib.load(fh)
    names = {
        "Wales": "wales",
        "Scotland": "scotland",
        "Northern Ireland": "northern_ireland",
        "Channel Islands": "channel_islands",
        "Isle of Man": "isle_of_man",
    }
    by_nation = {nation: [re.compile(rf"\b{re.escape(n)}\b", re.IGNORECASE) for n in data[key]] for nation, key in names.items()}
    return _Areas(by_nation=by_nation, unknown={n.lower() for n in data["unknown"]})


_AREAS = _load_areas()


def nation_of(area: str) -> str:
    if area.strip().lower() in _AREAS.unknown:
        return "unknown"
    for nation, patterns in _AREAS.by_nation.items():
        if any(p.search(area) for p in patterns):
            return nation
    return "England"


def _number(token: str) -> int:
    return int(token) if token.isdigit() else _NUMBER_WORDS[token.lower()]


def age_band(months: float | None) -> str:
    if months is None:
        return "multiple/unknown"
    if months < 0:
        return "unborn"
    if months < 12:
        return "under 1"
    years = months / 12
    if years < 5:
        return "1-4"
    if years < 11:
        return "5-10"
    if years < 16:
        return "11-15"
    if years < 18:
        return "16-17"
    return "multiple/unknown"


def parse_age(text: str) -> tuple[float | None, str]:
    """Age in months and band of the child a summary is about. Reads the first sentence only: later
    sentences mention siblings and parents. Several distinct ages, or a plural subject with no
    single age, is "multiple/unknown"; so is "teenage"/"adolescent" (it spans two bands)."""
    first = first_sentence(text)
    if AGE_RANGE_RE.search(first):
        return None, "multiple/unknown"
    ages: list[float] = []
    for m in AGE_RE.finditer(first):
        months = _number(m.group(1)) * _UNIT_MONTHS[m.group("unit").lower()]
        if m.group("half"):
            months += 0.5 * _UNIT_MONTHS[m.group("unit").lower()]
        if m.group("unit2"):
            months += _number(m.group(4)) * _UNIT_MONTHS[m.group("unit2").lower()]
        ages.append(round(months, 2))
    distinct = sorted(set(ages))
    if len(distinct) == 1:
        return distinct[0], age_band(distinct[0])
    if len(distinct) > 1:
        return None, "multiple/unknown"
    if UNBORN_RE.search(first):
        return None, "unborn"
    if PLURAL_RE.search(first):
        return None, "multiple/unknown"
    if INFANT_RE.search(first):
        return None, "under 1"
    return None, "multiple/unknown"


def first_sentence(text: str) -> str:
    m = re.search(r"(?<=[a-z0-9)’'])\.(?=\s+[A-Z0-9]|\s*$)", text)
    return text[: m.end()] if m else text


def parse_outcome(summary: str) -> str:
    """death / serious harm / other, read from the first two sentences of the summary."""
    first = first_sentence(summary)
    rest = summary[len(first) :]
    head = first + first_sentence(rest.lstrip())
    if DEATH_RE.search(first) or DEATH_RE.search(head):
        return "death"
    if HARM_RE.search(first):
        return "serious harm"
    return "other"


def split_keywords(raw: str) -> tuple[str, ...]:
    parts = (p.strip().strip(".").strip() for p in re.split(r"[;,]", raw))
    return tuple(dict.fromkeys(p for p in parts if p))


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def listing_end(text: str, tail_from: str | None) -> int:
    """Where the listings stop: the first line equal to ``tail_from``, or the end of the text."""
    if tail_from:
        m = re.search(rf"^[ \t]*{re.escape(tail_from)}[ \t]*$", text, re.MULTILINE)
        if m:
            return m.start()
    return len(text)


def parse_listing(text: str, source_file: str, tail_from: str | None = None) -> list[Review]:
    """Every review entry of a listing page, in page order."""
    stop = listing_end(text, tail_from)
    headers = [m for m in HEADER_RE.finditer(text, 0, stop)]
    intros = [m.start() for m in SECTION_INTRO_RE.finditer(text, 0, stop)]
    reviews: list[Review] = []
    for i, header in enumerate(headers):
        end = headers[i + 1].start() if i + 1 < len(headers) else stop
        end = min([end, *(p for p in intros if p > header.end())])
        reviews.append(_parse_entry(text, header, end, source_file))
    return reviews


def _parse_entry(text: str, header: re.Match[str], end: int, source_file: str) -> Review:
    body_start = header.end()
    report = REPORT_RE.search(text, body_start, end)
    keywords = KEYWORDS_RE.search(text, body_start, end)
    content_end = min(m.start() for m in (report, keywords) if m) if (report or keywords) else end
    learning = LEARNING_RE.search(text, body_start, content_end)
    recs = RECOMMENDATIONS_RE.search(text, learning.end() if learning else body_start, content_end)

    bounds = [body_start]
    names = ["summary"]
    if learning:
        bounds.append(learning.start())
        names.append("learning")
    if recs:
        bounds.append(recs.start())
        names.append("recommendations")
    bounds.append(content_end)

    heading = text[header.start() : header.end()].strip()
    sections: list[Section] = []
    parts: dict[str, str] = {"summary": "", "learning": "", "recommendations": ""}
    for name, s, e in zip(names, bounds, bounds[1:], strict=False):
        s, e = _trimmed(text, s, e)
        if e > s:
            sections.append(Section(name=name, start=s, end=e, heading_path=(heading,)))
            parts[name] = text[s:e]

    kw: tuple[str, ...] = ()
    if keywords:
        kw_end = report.start() if report and report.start() > keywords.end() else end
        kw = split_keywords(text[keywords.end() : kw_end])

    summary = parts["summary"]
    months, band = parse_age(summary)
    entry_start, entry_end = _trimmed(text, header.start(), end)
    area = header.group("area").strip()
    return Review(
        review_id="",  # assigned by assign_ids, which sees the whole collection
        year=int(header.group("year")),
        area=area,
        nation=nation_of(area),
        title=header.group("title").strip(),
        heading=heading,
        summary=summary,
        learning=parts["learning"],
        recommendations=parts["recommendations"],
        keywords=kw,
        report_type=report.group(1) if report else None,
        age_months=months,
        age_band=band,
        outcome=parse_outcome(summary),
        source_file=source_file,
        start=entry_start,
        end=entry_end,
        sections=tuple(sections),
    )


def assign_ids(reviews: list[Review]) -> list[Review]:
    """``nspcc-YEAR-area-title``; where two entries share that (the two 2023 "Anonymous – Child A"),
    each gets a suffix from a hash of its summary's first sentence, so ids survive re-ordering and
    edits to the rest of the entry."""
    from dataclasses import replace

    base = [f"nspcc-{r.year}-{slugify(r.area)}-{slugify(r.title)}" for r in reviews]
    counts: dict[str, int] = {}
    for b in base:
        counts[b] = counts.get(b, 0) + 1
    out: list[Review] = []
    seen: set[str] = set()
    for b, r in zip(base, reviews, strict=True):
        rid = b
        if counts[b] > 1:
            rid = f"{b}-{hashlib.sha1(first_sentence(r.summary).encode()).hexdigest()[:6]}"
        if rid in seen:
            raise SourceError(
                f"two listing entries produce the same id {rid!r}: {r.heading!r}; give one of them a distinct title in the listing"
            )
        seen.add(rid)
        out.append(replace(r, review_id=rid))
    return out


def review_document(review: Review, source_text: str, publisher: str | None) -> Document:
    return Document(
        doc_id=review.review_id,
        kind="case_review",
        title=review.title,
        heading=review.heading,
        source_file=review.source_file,
        source_text=source_text,
        start=review.start,
        end=review.end,
        sections=review.sections,
        meta=DocMeta(
            year=review.year,
            area=review.area,
            nation=review.nation,
            age_months=review.age_months,
            age_band=review.age_band,
            outcome=review.outcome,
            keywords=review.keywords,
            report_type=review.report_type,
            publisher=publisher,
        ),
    )
