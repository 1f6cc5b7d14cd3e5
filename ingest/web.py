"""Scraped and Markdown-like text → clean sections with heading paths; and whether a page belongs.

Consumes normalised text and a span of it; produces ``Section`` spans that hold no navigation,
sign-in prompts, phone-number lists, cookie or footer text (those lines are cut out, and a section
never spans a cut). ``judge`` decides, deterministically, whether a cleaned page is about child
safeguarding in the UK, with a reason a person can read. The vocabularies are at the top of this
module so that a change to what counts as boilerplate is a one-line, reviewable edit.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from records.types import Section

BOILERPLATE_LINE = re.compile(
    r"^(?:skip to (?:main )?content|home secure area|you are not logged in|log ?in|sign in|sign up|register|"
    r"subscribe|cookies?|accept (?:all )?cookies|privacy (?:policy|notice)|accessibility(?: statement)?|"
    r"terms and conditions|copyright statement|contact (?:us|details)|share (?:this story|full article)|"
    r"advertisement|supported by|leave a comment|most (?:recent|viewed)|recent headlines|more on this story|"
    r"report an error|latest stories|images|comments|e-edition|here’s how you know|also available in welsh|"
    r"\+ more ways to help you protect children)\b.{0,40}$",
    re.IGNORECASE,
)
BOILERPLATE_ANYWHERE = re.compile(
    r"sign in|sign up|newsletter|subscribe|password|cookie|©|\(opens in new window\)|click to share|"
    r"v-html=|\.replace\(/|listen to this article|open this article in|authentication link|"
    r"in your inbox|email alert",
    re.IGNORECASE,
)
PHONE = re.compile(r"(?<!\d)(?:\+44\s?|0)\d{2,4}(?:[ -]?\d{2,4}){1,3}(?!\d)")
EMAIL = re.compile(r"\[email\s*protected\]|\b[\w.+-]+@[\w-]+\.[\w.]+\b", re.IGNORECASE)
LINK_ONLY = re.compile(r"^(?:➤\s*)?(?:\[[^\]]*\]\([^)]*\)|<+https?://\S+>+|(?:https?://)?(?:[\w-]+\.)+(?:uk|org|com|gov)(?:/\S*)?)\s*[.]?$")
# A link inside a scraped page's text, as Markdown writes it: [the words shown](a target, which may hold
# parentheses of its own). An image (![…](…)) is not a link.
INLINE_LINK = re.compile(r"(?<!!)\[([^\[\]\n]+)\]\((?:[^()\s]|\([^()\s]*\))*\)")
# Where an article ends and the site's other headlines begin: everything after is dropped.
STOP_LINE = re.compile(
    r"^(?:more on this story|related (?:stories|articles|content)|most (?:viewed|read)|latest stories|"
    r"recent headlines|you may also like|read more stories)\.?$",
    re.IGNORECASE,
)
FOOTNOTE = re.compile(r"^\d{1,2}\s+(?:.*?(?:https?://|www\.|\(\d{4}\))|see \d{1,2} above)", re.IGNORECASE)
URL = re.compile(r"(?:https?://|www\.)\S+")
IMAGE_LINE = re.compile(r"(?:\.(?:png|jpe?g|gif|svg)|\blogo|\bheadshot\b.*)$", re.IGNORECASE)
LIST_ITEM = re.compile(r"^\s*(?:[-*•➤]|\d{1,2}[.)])\s+")
DATE_LINE = re.compile(
    r"^(?:(?:\d{1,2} )?(?:january|february|march|april|may|june|july|august|september|october|november|"
    r"december),? \d{1,2},? \d{4}|(?:january|february|march|april|may|june|july|august|september|"
    r"october|november|december) \d{4}|last updated: .*|published: .*)$",
    re.IGNORECASE,
)

UK_SIGNALS = re.compile(
    r"\b(?:England|English|Wales|Welsh|Scotland|Scottish|Northern Ireland|UK|United Kingdom|Britain|British|NHS|"
    r"local authorit\w+|councils?|safeguarding (?:board|partnership|partners)|Children Act|Working Together|"
    r"Ofsted|Cafcass|Childline|NSPCC|Ombudsman|Social Services and Well-being)\b"
)
FOREIGN_SIGNALS = re.compile(
    r"\b(?:United States|U\.S\.|America[n]?|Montana|Alabama|Wyoming|Washington|Homeland Security|Biden|"
    r"federal|governor|state district court|Supreme Court|Customs and Border Protection|CBP|Hungary|"
    r"Budapest|Australia)\b"
)
SAFEGUARDING_SIGNALS = re.compile(
    r"\b(?:safeguard\w*|child protection|abuse\w*|neglect\w*|at risk|harm\w*|case reviews?|practice reviews?|"
    r"looked after|social work\w*|maltreatment|exploitation|welfare|vulnerab\w*)\b",
    re.IGNORECASE,
)

MIN_WORDS = 40
MIN_SAFEGUARDING_PER_100_WORDS = 2.0
MAX_LISTING_LINE_SHARE = 0.3


@dataclass(frozen=True)
class Line:
    start: int
    end: int
    text: str  # stripped

    @property
    def words(self) -> int:
        return len(self.text.split())


def unlink(text: str) -> str:
    """Each link inside a line becomes the words the page showed ("[bruising in non-mobile infants](#)"
    → "bruising in non-mobile infants"), so a quote reads as the page did, with no dead link; a line
    that is only a link keeps its markup, so ``clean_sections`` still drops it as navigation."""
    if "](" not in text:
        return text
    return "\n".join(line if LINK_ONLY.match(line.strip()) else INLINE_LINK.sub(r"\1", line) for line in text.split("\n"))


def lines_of(text: str, start: int, end: int) -> list[Line]:
    out: list[Line] = []
    pos = start
    while pos < end:
        nl = text.find("\n", pos, end)
        stop = end if nl == -1 else nl
        raw = text[pos:stop]
        lead = len(raw) - len(raw.lstrip())
        stripped = raw.strip()
        out.append(Line(pos + lead, pos + lead + len(stripped), stripped))
        pos = stop + 1
    return out


def is_boilerplate(line: Line, repeated: set[str]) -> bool:
    t = line.text
    if not t:
        return False
    if t in repeated or BOILERPLATE_LINE.match(t) or LINK_ONLY.match(t) or FOOTNOTE.match(t):
        return True
    if line.words <= 30 and BOILERPLATE_ANYWHERE.search(t):
        return True
    if sum(len(u) for u in URL.findall(t)) > 0.4 * len(t):
        return True
    if line.words <= 6 and IMAGE_LINE.search(t):
        return True
    phones = PHONE.findall(t)
    phone_chars = sum(len(p) for p in phones)
    if len(phones) >= 2 or (phones and phone_chars > 0.25 * len(t)):
        return True
    return bool(EMAIL.search(t) and line.words <= 25 and not t.endswith((".", "?")))


def _nav_runs(lines: Sequence[Line]) -> set[int]:
    """Indexes of lines in runs of two or more short bullet items with no sentence in them, unless
    a line ending in ':' introduces the run (then it is a list, not a menu)."""

    def navlike(line: Line) -> bool:
        return bool(LIST_ITEM.match(line.text)) and line.words <= 7 and not line.text.rstrip().endswith((".", ";", ":"))

    out: set[int] = set()
    i = 0
    last_text = ""
    while i < len(lines):
        if lines[i].text and not navlike(lines[i]):
            last_text = lines[i].text
        if navlike(lines[i]) and not last_text.endswith(":"):
            j = i
            while j < len(lines) and (navlike(lines[j]) or not lines[j].text):
                j += 1
            items = [k for k in range(i, j) if lines[k].text]
            if len(items) >= 2:
                out.update(items)
            i = j
        else:
            i += 1
    return out


def _is_heading(line: Line, prev_blank: bool, next_blank: bool) -> bool:
    t = line.text
    if t.startswith("#"):
        return True
    return (
        prev_blank
        and next_blank
        and 0 < line.words <= 12
        and not LIST_ITEM.match(t)
        and not t.endswith((".", ":", ";", ",", "?", "!"))
        and not DATE_LINE.match(t)
        and "http" not in t
        and "www." not in t
        and (t[0].isupper() or t[0].isdigit())
    )


@dataclass(frozen=True)
class Cleaned:
    sections: tuple[Section, ...]
    removed_lines: int
    kept_text: str


def clean_sections(
    text: str,
    start: int,
    end: int,
    title: str,
    *,
    outline: Sequence[str] = (),
    skip_sections: Sequence[str] = (),
    find_headings: bool = True,
) -> Cleaned:
    """Cut boilerplate lines out of ``text[start:end]`` and group what is left into sections.

    Headings: Markdown ``#`` lines give their level by the number of ``#``; otherwise a short,
    unpunctuated line standing alone is a heading, at level 2 when it is named in ``outline`` (or
    when there is no outline) and level 3 under the last level-2 heading otherwise. Sections named
    in ``skip_sections`` are left out with everything under them.
    """
    lines = lines_of(text, start, end)
    counts = Counter(ln.text for ln in lines if ln.text and ln.words <= 8)
    repeated = {t for t, n in counts.items() if n >= 3 and not LIST_ITEM.match(t)}
    nav = _nav_runs(lines)
    dropped = {i for i, ln in enumerate(lines) if i in nav or is_boilerplate(ln, repeated)}
    stop = next((i for i, ln in enumerate(lines) if STOP_LINE.match(ln.text)), len(lines))
    dropped.update(range(stop, len(lines)))

    outline_set = {o.lower() for o in outline}
    skip = {s.lower() for s in skip_sections}
    path: list[str] = [title]
    sections: list[Section] = []
    region: list[int] = []  # indexes of kept content lines in the open region
    removed = 0
    skipping = False

    def close() -> None:
        if region and not skipping:
            s, e = lines[region[0]].start, lines[region[-1]].end
            sections.append(Section(name=path[-1] if len(path) > 1 else "text", start=s, end=e, heading_path=tuple(path)))
        region.clear()

    for i, ln in enumerate(lines):
        if i in dropped:
            removed += 1
            close()
            continue
        if not ln.text:
            continue
        prev_blank = i == 0 or not lines[i - 1].text or (i - 1) in dropped
        next_blank = i + 1 >= len(lines) or not lines[i + 1].text or (i + 1) in dropped
        if find_headings and _is_heading(ln, prev_blank, next_blank):
            close()
            heading = ln.text.lstrip("#").strip()
            if heading.lower() == title.lower():
                level = 1
            elif ln.text.startswith("#"):
                level = min(len(ln.text) - len(ln.text.lstrip("#")), 6)
            elif heading.lower() in outline_set or not outline_set:
                level = 2
            else:
                level = 3
            if level == 1:
                # A document's own title line replaces the given title.
                path[:] = [heading]
                skipping = False
                continue
            del path[level - 1 :]
            while len(path) < level - 1:
                path.append(path[-1])
            path.append(heading)
            if level == 2:
                skipping = heading.lower() in skip
            continue
        region.append(i)
    close()
    kept = "\n".join(text[s.start : s.end] for s in sections)
    return Cleaned(sections=tuple(sections), removed_lines=removed, kept_text=kept)


@dataclass(frozen=True)
class Verdict:
    include: bool
    reason: str


def _top(pattern: re.Pattern[str], text: str, n: int = 3) -> tuple[int, str]:
    found = Counter(m.group(0) for m in pattern.finditer(text))
    total = sum(found.values())
    return total, ", ".join(f"{w} ×{c}" for w, c in found.most_common(n))


def judge(kept_text: str) -> Verdict:
    """Is this cleaned page about child safeguarding in the UK? Deterministic; the reason names the
    evidence, so an exclusion can be checked by a person."""
    words = len(kept_text.split())
    if words < MIN_WORDS:
        return Verdict(False, f"only {words} words left after removing navigation and boilerplate")
    lines = [ln for ln in kept_text.splitlines() if ln.strip()]
    listing = sum(1 for ln in lines if re.match(r"^\s*\d{1,2}\.\s", ln))
    if lines and listing / len(lines) > MAX_LISTING_LINE_SHARE:
        return Verdict(False, f"a list of search results ({listing} numbered entries), not a page of its own")
    foreign, foreign_top = _top(FOREIGN_SIGNALS, kept_text)
    uk, uk_top = _top(UK_SIGNALS, kept_text)
    if foreign > uk:
        return Verdict(False, f"not about the UK: {foreign_top}" + (f" against {uk_top}" if uk else ""))
    topical, topical_top = _top(SAFEGUARDING_SIGNALS, kept_text.lower())
    density = 100 * topical / words
    if density < MIN_SAFEGUARDING_PER_100_WORDS:
        return Verdict(
            False,
            f"not about child safeguarding: {topical} safeguarding terms in {words} words" + (f" ({topical_top})" if topical else ""),
        )
    return Verdict(True, f"{topical} safeguarding terms in {words} words; UK: {uk_top or 'no place named'}")
