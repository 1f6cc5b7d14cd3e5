"""Passage relevance, judged the way a practitioner reads an answer: does each quoted passage speak to
what was asked?

    python -m evals.relevance export DIR      # passages not yet judged → DIR/batch-NN.jsonl for judges
    python -m evals.relevance import DIR      # DIR/judged-NN.jsonl → evals/datasets/relevance.jsonl
    python -m evals.relevance report [--json] # on-share, first-five, off-share, headings, topic misses

A fixed sample of in-scope questions from each split of evals/datasets/generalise.jsonl is answered;
every passage an answer quotes (and, on export, every passage plain dense retrieval would quote, and
on the tuning split every clause the themed answer may choose from) is judged **on** (speaks to what
was asked), **near** (same broad area, not what was asked: a general practice point, a neighbouring
topic, the case's facts without the learning asked for) or **off** (unrelated, boilerplate, a fragment,
news or web text) by a reader who sees only the question and that one passage, under the written rules
of evals/relevance_brief.md. Batches are shuffled across questions and systems, so a judge cannot tell
which system quoted a passage. A share of items (``--double``) goes to two judges; their agreement is
reported. Where two judges differ, the less favourable label counts.

The judgements are a dataset (evals/datasets/relevance.jsonl, one line per question and passage):
the relevance stage (assistant/answers/relevance.py) learns from the tuning split's lines only; the test
split's are read only by ``report``. Passages a later change quotes are exported and judged the same
way; ``report`` says how many quoted passages are still unjudged.

Consumes a ``Casebook``; produces the report dict per split (``casebook eval --relevance``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from assistant.answers.quotes import QueryTerms, best_point
from assistant.answers.refusal import in_scope
from assistant.answers.themes import ThemeSettings, pool
from assistant.casebook import Casebook
from assistant.question.safety import safety_notice
from assistant.retrieval import coverage
from assistant.routes import THEMED_SOURCES
from evals.generalisation import GENERALISE, in_scope_rows
from evals.run import read_jsonl
from ingest.web import unlink
from records.types import Answer, ReviewHit

JUDGEMENTS = Path(__file__).parent / "datasets" / "relevance.jsonl"
SAMPLE = {"tuning": 100, "test": 80}  # questions judged per split
LABELS = ("on", "near", "off")
RANK = {"off": 0, "near": 1, "on": 2}
POOL_PER_SOURCE = 5  # clauses per drawn source judged on the tuning split (the stage chooses among these)
DENSE_QUOTES = 5


def sample_rows(split: str, n: int | None = None) -> list[dict[str, Any]]:
    """The split's judged questions: a fixed sample, ordered by a hash of the question's id."""
    rows = sorted(in_scope_rows(split), key=lambda r: hashlib.sha256(r["id"].encode()).hexdigest())
    return rows[: SAMPLE[split] if n is None else n]


def item_id(question_id: str, passage: str) -> str:
    return hashlib.sha256(f"{question_id}\n{passage}".encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Judged:
    """One question and passage, with every judge's label."""

    question_id: str
    split: str
    question: str
    passage: str
    labels: tuple[tuple[str, str], ...]  # (label, judge)

    @property
    def label(self) -> str:
        """The less favourable label where judges differ."""
        return min((lab for lab, _ in self.labels), key=RANK.__getitem__)


class Judgements(dict[tuple[str, str], Judged]):
    """Judgements by (question id, passage), the passage read as ingest now stores text: a scraped
    page's link markup as its words (ingest.web.unlink). A passage judged with its markup is the same
    words to a reader, so the judgement still counts after the cleaning, and before a re-ingest."""

    def __setitem__(self, key: tuple[str, str], value: Judged) -> None:
        super().__setitem__((key[0], unlink(key[1])), value)

    def __getitem__(self, key: tuple[str, str]) -> Judged:
        return super().__getitem__((key[0], unlink(key[1])))

    def __contains__(self, key: object) -> bool:
        return isinstance(key, tuple) and len(key) == 2 and super().__contains__((key[0], unlink(key[1])))

    def get(self, key: tuple[str, str], default: Any = None) -> Any:  # type: ignore[override]
        return super().get((key[0], unlink(key[1])), default)


def load_judgements(path: Path = JUDGEMENTS, split: str | None = None) -> dict[tuple[str, str], Judged]:
    out = Judgements()
    if not path.is_file():
        return out
    for row in read_jsonl(path):
        if split and row["split"] != split:
            continue
        j = Judged(
            row["question_id"], row["split"], row["question"], row["passage"], tuple((x["label"], x["judge"]) for x in row["labels"])
        )
        out[(j.question_id, j.passage)] = j
    return out


def shown(answer: Answer) -> list[str]:
    """The passages an answer quotes, in the order a reader meets them (citation order)."""
    return list(dict.fromkeys(c.quote for c in answer.citations))


def headings(answer: Answer) -> list[str]:
    """A themed answer's headings that are verbatim quotes (a model's headline is judged elsewhere)."""
    return [t.heading for t in answer.themes if t.written_by == "quote"]


def dense_quotes(cb: Casebook, question: str) -> list[str]:
    """What plain dense retrieval would quote: the best clause of each of its first passages."""
    query = QueryTerms.of(question)
    hits = cb.retriever.dense(question, DENSE_QUOTES)
    return list(dict.fromkeys(best_point(ReviewHit(h.chunk.doc_id, h.score, (h,)), query).quote for h in hits))


def pool_quotes(cb: Casebook, question: str) -> list[str]:
    """Every clause the themed answer may choose from (its candidate pool)."""
    result = cb.search_scored(question, THEMED_SOURCES)
    if not in_scope(result, live_concern=safety_notice(question) is not None):
        return []
    cfg = ThemeSettings(per_source=POOL_PER_SOURCE)
    _, points = pool(question, result.hits, cfg, on_topic=coverage.on_topic(cb.retriever, result), complete=cb.retriever.with_findings)
    return list(dict.fromkeys(p.quote for p in points))


def collect(cb: Casebook, splits: Sequence[str] = ("tuning", "test")) -> list[dict[str, str]]:
    """Every (question, passage) to be judged: the answer's quotes, plain dense's quotes, and on the
    tuning split the candidate pool."""
    items: dict[str, dict[str, str]] = {}
    for split in splits:
        for row in sample_rows(split):
            q = row["question"]
            passages = [*shown(cb.ask(q)), *dense_quotes(cb, q)]
            if split == "tuning":
                passages += pool_quotes(cb, q)
            for p in passages:
                items.setdefault(item_id(row["id"], p), {"question_id": row["id"], "split": split, "question": q, "passage": p})
    return [{"item": k, **v} for k, v in items.items()]


def export(cb: Casebook, out: Path, *, batches: int, double: float, seed: int = 24) -> tuple[int, int]:
    """Write the unjudged items as shuffled batches (item, question, passage only) and an index."""
    judged = load_judgements()
    todo = [i for i in collect(cb) if (i["question_id"], i["passage"]) not in judged]
    rng = random.Random(seed)
    rng.shuffle(todo)
    out.mkdir(parents=True, exist_ok=True)
    (out / "items.json").write_text(json.dumps({i["item"]: i for i in todo}, ensure_ascii=False, indent=0), encoding="utf-8")
    split: list[list[dict[str, str]]] = [[] for _ in range(batches)]
    for n, item in enumerate(todo):
        split[n % batches].append(item)
    twice = rng.sample(range(len(todo)), int(len(todo) * double)) if batches > 1 else []
    for n in twice:  # a second judge: another batch
        split[(n % batches + 1 + rng.randrange(batches - 1)) % batches].append(todo[n])
    for b, part in enumerate(split, 1):
        rng.shuffle(part)
        lines = [json.dumps({"item": i["item"], "question": i["question"], "passage": i["passage"]}, ensure_ascii=False) for i in part]
        (out / f"batch-{b:02d}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(todo), len(twice)


def import_judged(folder: Path, path: Path = JUDGEMENTS) -> int:
    """Merge DIR/judged-NN.jsonl (one {"item", "label"} per line; judge NN) into the dataset."""
    index = json.loads((folder / "items.json").read_text(encoding="utf-8"))
    rows = {(r["question_id"], r["passage"]): r for r in (read_jsonl(path) if path.is_file() else [])}
    added = 0
    for f in sorted(folder.glob("judged-*.jsonl")):
        judge = f"{folder.name}/{f.stem.removeprefix('judged-')}"
        for line in read_jsonl(f):
            label = str(line.get("label", "")).strip().lower()
            item = index.get(line.get("item"))
            if item is None or label not in LABELS:
                print(f"{f.name}: skipped {line!r} (unknown item or label; expected on, near or off)", file=sys.stderr)
                continue
            key = (item["question_id"], item["passage"])
            row = rows.setdefault(key, {k: item[k] for k in ("question_id", "split", "question", "passage")} | {"labels": []})
            if all(x["judge"] != judge for x in row["labels"]):
                row["labels"].append({"label": label, "judge": judge})
                added += 1
    ordered = sorted(rows.values(), key=lambda r: (r["split"], r["question_id"], r["passage"]))
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ordered), encoding="utf-8")
    return added


def agreement(judged: Iterable[Judged]) -> dict[str, Any]:
    """Raw agreement and Cohen's kappa on the items two judges labelled (three labels, and on / not on)."""
    pairs = [(j.labels[0][0], j.labels[1][0]) for j in judged if len(j.labels) >= 2]
    if not pairs:
        return {"items": 0}

    def kappa(ps: list[tuple[str, str]]) -> tuple[float, float]:
        agree = sum(a == b for a, b in ps) / len(ps)
        first, second = Counter(a for a, _ in ps), Counter(b for _, b in ps)
        chance = sum(first[k] * second[k] for k in first) / len(ps) ** 2
        return round(agree, 3), round((agree - chance) / (1 - chance), 3) if chance < 1 else 1.0

    three = kappa(pairs)
    binary = kappa([(str(a == "on"), str(b == "on")) for a, b in pairs])
    return {"items": len(pairs), "agreement": three[0], "kappa": three[1], "agreement_on": binary[0], "kappa_on": binary[1]}


def report_split(cb: Casebook, split: str, judged: dict[tuple[str, str], Judged]) -> dict[str, Any]:
    """The shares a practitioner would see, over the split's judged questions."""
    counts: Counter[str] = Counter()
    by_kind: dict[str, Counter[str]] = {"themed": Counter(), "closest": Counter()}
    first5: Counter[str] = Counter()
    heads: Counter[str] = Counter()
    misses: list[str] = []
    unjudged = answered = with_on = empty = little = 0
    for row in sample_rows(split):
        answer = cb.ask(row["question"])
        if answer.refused:
            continue
        answered += 1
        labels = []
        for n, quote in enumerate(shown(answer)):
            j = judged.get((row["id"], quote))
            if j is None:
                unjudged += 1
                continue
            labels.append(j.label)
            counts[j.label] += 1
            by_kind["closest" if answer.little else "themed"][j.label] += 1
            if n < 5:
                first5[j.label] += 1
        for h in headings(answer):
            j = judged.get((row["id"], h))
            if j is not None:
                heads[j.label] += 1
        if claims_coverage(answer) and labels and "on" not in labels:
            misses.append(row["id"])
        with_on += "on" in labels
        empty += not answer.citations
        little += answer.little
    total = sum(counts.values())
    return {
        "questions": len(sample_rows(split)),
        "answered": answered,
        "passages": total,
        "unjudged": unjudged,
        "on_share": round(counts["on"] / total, 3) if total else None,
        "near_share": round(counts["near"] / total, 3) if total else None,
        "off_share": round(counts["off"] / total, 3) if total else None,
        "first_five_on_share": round(first5["on"] / sum(first5.values()), 3) if first5 else None,
        # The same share over the answers that present themes, and over the closest passages a
        # "little on this" answer quotes as such.
        **{f"on_share_{k}": round(c["on"] / sum(c.values()), 3) if c else None for k, c in by_kind.items()},
        **{f"passages_{k}": sum(c.values()) for k, c in by_kind.items()},
        "heading_on_share": round(heads["on"] / sum(heads.values()), 3) if heads else None,
        "headings": sum(heads.values()),
        "topic_misses": len(misses),
        "topic_miss_ids": misses,
        # What a reader gets at all: answers that quote a passage judged on the question, and
        # answers that quote nothing (the precision above says nothing of these).
        "answers_with_on": round(with_on / answered, 3) if answered else None,
        "answers_quoting_nothing": round(empty / answered, 3) if answered else None,
        "little_answers": little,  # answered as "the collection has little squarely on this"
    }


def claims_coverage(answer: Answer) -> bool:
    """Whether an answer presents its quotes as speaking to the question (anything but the plain
    "the collection has little on this" answer)."""
    return not answer.refused and not answer.little


def refusal_by_answer(cb: Casebook, split: str) -> dict[str, Any]:
    """Refusal as the answer decides it, the relevance stage's second chance included (a question no
    passage speaks to that reads as an off-topic kind is refused): every question of the split."""
    rows = [r for r in read_jsonl(GENERALISE) if r["split"] == split]
    answers = [cb.ask(r["question"]) for r in rows]
    oos = [a.refused for a, r in zip(answers, rows, strict=True) if r["refuse"]]
    ins = [a.refused for a, r in zip(answers, rows, strict=True) if not r["refuse"]]
    little = sum(a.little for a, r in zip(answers, rows, strict=True) if not r["refuse"])
    return {
        "out_of_scope_refused": round(sum(oos) / len(oos), 3),
        "in_scope_answered": round(1 - sum(ins) / len(ins), 3),
        "in_scope_little": round(little / len(ins), 3),
    }


def relevance_report(cb: Casebook, path: Path = JUDGEMENTS) -> dict[str, Any]:
    judged = load_judgements(path)
    out: dict[str, Any] = {split: report_split(cb, split, judged) | refusal_by_answer(cb, split) for split in ("tuning", "test")}
    out["agreement"] = agreement(judged.values())
    out["judged"] = len(judged)
    return out


def summary_lines(report: dict[str, Any]) -> list[str]:
    lines = []
    for split in ("tuning", "test"):
        r = report[split]
        lines.append(
            f"relevance, {split} split ({r['answered']} answers, {r['passages']} passages judged, {r['unjudged']} unjudged): "
            f"on {r['on_share']} (themed answers {r['on_share_themed']} of {r['passages_themed']}, "
            f"closest passages {r['on_share_closest']} of {r['passages_closest']}), first five on {r['first_five_on_share']}, "
            f"off {r['off_share']}, "
            f"headings on {r['heading_on_share']} (of {r['headings']}), topic misses {r['topic_misses']}; "
            f"answers quoting a passage on the question {r['answers_with_on']}, quoting nothing {r['answers_quoting_nothing']}; "
            f"out-of-scope refused {r['out_of_scope_refused']}, in-scope answered {r['in_scope_answered']} "
            f"(of which 'little on this' {r['in_scope_little']})"
        )
    a = report["agreement"]
    if a.get("items"):
        lines.append(
            f"judges agree on {a['items']} doubly judged passages: {a['agreement']} (kappa {a['kappa']}); "
            f"on / not on {a['agreement_on']} (kappa {a['kappa_on']})"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    e = sub.add_parser("export", help="write the passages not yet judged as batches for judges")
    e.add_argument("folder", type=Path)
    e.add_argument("--batches", type=int, default=8)
    e.add_argument("--double", type=float, default=0.1, help="share of items given to a second judge")
    i = sub.add_parser("import", help="merge judged batches into evals/datasets/relevance.jsonl")
    i.add_argument("folder", type=Path)
    r = sub.add_parser("report", help="on-share, first-five on-share, off-share, headings, topic misses")
    r.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.command == "import":
        print(f"{import_judged(args.folder)} judgements added to {JUDGEMENTS}")
        return 0
    cb = Casebook()
    cb.ensure_indexed()
    if args.command == "export":
        n, twice = export(cb, args.folder, batches=args.batches, double=args.double)
        print(f"{n} passages to judge ({twice} of them twice) in {args.batches} batches under {args.folder}")
        return 0
    report = relevance_report(cb)
    print(json.dumps(report, indent=2) if args.json else "\n".join(summary_lines(report)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
