"""Build evals/datasets/retrieval.jsonl: practitioners' questions → the reviews that should come back.

Relevance is decided by a written criterion over each review's own text (summary, learning and
recommendations), never by NSPCC's keyword labels or by any retrieval system, so the labels that
retrieval uses as a signal cannot make themselves right. Each criterion is a set of regular
expressions that must all match (``all``), plus optional alternatives of which one must match
(``any``). Run it again after the collection changes; review the diff before committing.

    python -m evals.build_retrieval_set
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from ingest.bundled import parse_collection

OUT = Path(__file__).parent / "datasets" / "retrieval.jsonl"

CASES: list[dict[str, object]] = [
    {"id": "r-bruising-non-mobile", "question": "what did reviews say about bruising in non-mobile babies?",
     "all": [r"bruis"], "any": [r"non-mobile|pre-mobile|immobile|not independently mobile|non mobile", r"\b\d+-(?:day|week|month)-old\b|\bbab(?:y|ies)\b|\binfants?\b"]},
    {"id": "r-shaking", "question": "babies injured by shaking or abusive head trauma",
     "all": [r"head injur|head trauma|shak|skull fracture|brain injur|subdural"], "any": [r"\bbab(?:y|ies)\b|\binfants?\b|-(?:week|month)-old"]},
    {"id": "r-sleep", "question": "deaths of infants while co-sleeping with a parent who had been drinking",
     "all": [r"co-?sleep|bed.?shar|sleeping (?:on|with)|unsafe sleep|safe sleep|safer sleep|sudden (?:unexpected|infant) death|SUDI"]},
    {"id": "r-county-lines", "question": "young people groomed into county lines drug dealing",
     "all": [r"county lines|criminal exploitation|\bgangs?\b|drug (?:dealing|running)"]},
    {"id": "r-cse", "question": "sexual exploitation of teenage girls and grooming",
     "all": [r"sexual exploitation|\bCSE\b|groom"]},
    {"id": "r-suicide", "question": "teenagers who took their own life after self-harming",
     "all": [r"suicide|took (?:her|his|their) own life|self-harm|self harm"]},
    {"id": "r-unseen-men", "question": "the role of fathers and mothers' partners who were not seen by professionals",
     "all": [r"unseen men|invisible men|hidden men|unknown men|\bfathers?\b|male (?:carer|partner)|mother's partner|mothers' partners"]},
    {"id": "r-domestic-abuse", "question": "children living with coercive control and domestic violence",
     "all": [r"domestic (?:abuse|violence)|coercive|controlling behaviour|partner violence"]},
    {"id": "r-fii", "question": "fabricated or induced illness by a parent",
     "all": [r"fabricated|induced illness|\bFII\b|perplexing presentation"]},
    {"id": "r-neglect-home", "question": "chronic neglect and poor home conditions",
     "all": [r"neglect"], "any": [r"home conditions|chronic|cumulative|hygiene|squalid|cluttered|poor conditions"]},
    {"id": "r-curiosity", "question": "lack of professional curiosity and over-optimism about parents",
     "all": [r"professional curiosity|curious|over-?optimis|disguised compliance|respectful uncertainty"]},
    {"id": "r-info-sharing", "question": "failures in information sharing between agencies",
     "all": [r"information sharing|sharing (?:of )?information|share information|shared information"]},
    {"id": "r-was-not-brought", "question": "children repeatedly not brought to health appointments",
     "all": [r"was not brought|not brought|missed (?:health )?appointments|did not attend|non-attendance"]},
    {"id": "r-disabled", "question": "safeguarding disabled children and children with autism",
     "all": [r"disab|autis|special educational needs|\bSEND\b|learning difficult"]},
    {"id": "r-knife", "question": "boys fatally stabbed in serious youth violence",
     "all": [r"\bstab(?:bed|bing|bings|s)?\b|knife|serious youth violence"]},
    {"id": "r-online", "question": "harm linked to social media and online contact",
     "all": [r"social media|online|internet"]},
    {"id": "r-cannabis", "question": "parents' cannabis and drug use around babies",
     "all": [r"cannabis|substance misuse|drug use|drug misuse"], "any": [r"\bbab(?:y|ies)\b|\binfants?\b|-(?:day|week|month)-old|newborn"]},
    {"id": "r-pre-birth", "question": "pre-birth assessments in pregnancy",
     "all": [r"pre-?birth|antenatal|during pregnancy|unborn"]},
    {"id": "r-private-law", "question": "children caught in private law proceedings and parental separation",
     "all": [r"private law|custody|child arrangements|separated parents|parental separation|Cafcass"]},
    {"id": "r-fire", "question": "children who died in house fires",
     "all": [r"\bfire\b|house fire|burns"]},
    {"id": "r-drowning", "question": "drowning in the bath",
     "all": [r"drown|\bbath"]},
    {"id": "r-home-education", "question": "children educated at home or missing from school",
     "all": [r"home educat|elective home|missing (?:from )?education|not in (?:full-time )?education|electively"]},
]


def build() -> list[dict[str, object]]:
    reviews = parse_collection().reviews
    rows = []
    for case in CASES:
        must = [re.compile(p, re.IGNORECASE) for p in case["all"]]  # type: ignore[union-attr]
        alt = [re.compile(p, re.IGNORECASE) for p in case.get("any", [])]  # type: ignore[union-attr]
        relevant = []
        for r in reviews:
            text = f"{r.summary}\n{r.learning}\n{r.recommendations}"
            if all(p.search(text) for p in must) and (not alt or all(p.search(text) for p in alt)):
                relevant.append(r.review_id)
        rows.append({"id": case["id"], "question": case["question"], "relevant": sorted(relevant),
                     "criterion": {"all": case["all"], "any": case.get("any", [])}})
    return rows


if __name__ == "__main__":
    rows = build()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    for row in rows:
        print(f"{row['id']:24} {len(row['relevant']):3} relevant")  # type: ignore[arg-type]
