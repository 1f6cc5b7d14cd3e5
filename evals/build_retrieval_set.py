"""Build evals/datasets/retrieval.jsonl: practitioners' questions → the reviews that should come back.

A review is relevant to a question when either judgement says so, and both are kept apart in the
file so that each can be scored on its own:

- ``relevant_text``: a written criterion over the review's own text (summary, learning and
  recommendations): regular expressions that must all match (``all``, then each of ``any``).
  Being lexical, it favours lexical retrieval.
- ``relevant_labels``: NSPCC's librarians labelled the review with one of the question's topic
  labels (``labels``, NSPCC's controlled vocabulary). This is the closest thing to a human
  relevance judgement the collection has. Casebook also uses NSPCC labels as a ranking signal, so a
  score on this half favours Casebook; report both halves, not only the union.

``relevant`` is the union. No retrieval system is consulted. Run it again after the collection
changes; review the diff before committing.

    python -m evals.build_retrieval_set
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ingest.bundled import parse_collection

OUT = Path(__file__).parent / "datasets" / "retrieval.jsonl"

CASES: list[dict[str, Any]] = [
    {
        "id": "r-bruising-non-mobile",
        "question": "what did reviews say about bruising in non-mobile babies?",
        "all": [r"bruis"],
        "any": [
            r"non-mobile|pre-mobile|immobile|not independently mobile|non mobile",
            r"\b\d+-(?:day|week|month)-old\b|\bbab(?:y|ies)\b|\binfants?\b",
        ],
        "labels": ["bruises"],
    },
    {
        "id": "r-shaking",
        "question": "babies injured by shaking or abusive head trauma",
        "all": [r"head injur|head trauma|shak|skull fracture|brain injur|subdural"],
        "any": [r"\bbab(?:y|ies)\b|\binfants?\b|-(?:week|month)-old"],
        "labels": ["non-accidental head injuries", "shaking", "head injuries"],
    },
    {
        "id": "r-sleep",
        "question": "deaths of infants while co-sleeping with a parent who had been drinking",
        "all": [r"co-?sleep|bed.?shar|sleeping (?:on|with)|unsafe sleep|safe sleep|safer sleep|sudden (?:unexpected|infant) death|SUDI"],
        "labels": ["sleeping behaviour", "sudden infant death"],
    },
    {
        "id": "r-county-lines",
        "question": "young people groomed into county lines drug dealing",
        "all": [r"county lines|criminal exploitation|\bgangs?\b|drug (?:dealing|running)"],
        "labels": ["child criminal exploitation", "county lines", "gangs"],
    },
    {
        "id": "r-cse",
        "question": "sexual exploitation of teenage girls and grooming",
        "all": [r"sexual exploitation|\bCSE\b|groom"],
        "labels": ["child sexual exploitation", "grooming"],
    },
    {
        "id": "r-suicide",
        "question": "teenagers who took their own life after self-harming",
        "all": [r"suicide|took (?:her|his|their) own life|self-harm|self harm"],
        "labels": ["suicide", "self harm", "self-harm"],
    },
    {
        "id": "r-unseen-men",
        "question": "the role of fathers and mothers' partners who were not seen by professionals",
        "all": [r"unseen men|invisible men|hidden men|unknown men|\bfathers?\b|male (?:carer|partner)|mother's partner|mothers' partners"],
        "labels": ["unknown men", "fathers", "abusive fathers", "abusive men"],
    },
    {
        "id": "r-domestic-abuse",
        "question": "children living with coercive control and domestic violence",
        "all": [r"domestic (?:abuse|violence)|coercive|controlling behaviour|partner violence"],
        "labels": ["domestic abuse", "family violence", "partner violence", "children in violent families"],
    },
    {
        "id": "r-fii",
        "question": "fabricated or induced illness by a parent",
        "all": [r"fabricated|induced illness|\bFII\b|perplexing presentation"],
        "labels": ["fabricated or induced illness (fii)"],
    },
    {
        "id": "r-neglect-home",
        "question": "chronic neglect and poor home conditions",
        "all": [r"neglect"],
        "any": [r"home conditions|chronic|cumulative|hygiene|squalid|cluttered|poor conditions"],
        "labels": ["home environment", "neglected children"],
    },
    {
        "id": "r-curiosity",
        "question": "lack of professional curiosity and over-optimism about parents",
        "all": [r"professional curiosity|curious|over-?optimis|disguised compliance|respectful uncertainty"],
        "labels": ["professional curiosity", "disguised compliance", "optimistic behaviour"],
    },
    {
        "id": "r-info-sharing",
        "question": "failures in information sharing between agencies",
        "all": [r"information sharing|sharing (?:of )?information|share information|shared information"],
        "labels": ["information sharing"],
    },
    {
        "id": "r-was-not-brought",
        "question": "children repeatedly not brought to health appointments",
        "all": [r"was not brought|not brought|missed (?:health )?appointments|did not attend|non-attendance"],
        "labels": ["non-attendance"],
    },
    {
        "id": "r-disabled",
        "question": "safeguarding disabled children and children with autism",
        "all": [r"disab|autis|special educational needs|\bSEND\b|learning difficult"],
        "labels": ["children with disabilities", "children with learning difficulties", "autism"],
    },
    {
        "id": "r-knife",
        "question": "boys fatally stabbed in serious youth violence",
        "all": [r"\bstab(?:bed|bing|bings|s)?\b|knife|serious youth violence"],
        "labels": ["serious youth violence", "weapons", "knife crime"],
    },
    {
        "id": "r-online",
        "question": "harm linked to social media and online contact",
        "all": [r"social media|online|internet"],
        "labels": ["social media", "online abuse", "internet"],
    },
    {
        "id": "r-cannabis",
        "question": "parents' cannabis and drug use around babies",
        "all": [r"cannabis|substance misuse|drug use|drug misuse"],
        "any": [r"\bbab(?:y|ies)\b|\binfants?\b|-(?:day|week|month)-old|newborn"],
        "labels": ["drug misuse", "substance misuse"],
    },
    {
        "id": "r-pre-birth",
        "question": "pre-birth assessments in pregnancy",
        "all": [r"pre-?birth|antenatal|during pregnancy|unborn"],
        "labels": ["pregnancy"],
    },
    {
        "id": "r-private-law",
        "question": "children caught in private law proceedings and parental separation",
        "all": [r"private law|custody|child arrangements|separated parents|parental separation|Cafcass"],
        "labels": ["court proceedings"],
    },
    {"id": "r-fire", "question": "children who died in house fires", "all": [r"\bfire\b|house fire|burns"], "labels": ["burns"]},
    {"id": "r-drowning", "question": "drowning in the bath", "all": [r"drown|\bbath"], "labels": []},
    {
        "id": "r-home-education",
        "question": "children educated at home or missing from school",
        "all": [r"home educat|elective home|missing (?:from )?education|not in (?:full-time )?education|electively"],
        "labels": ["home education", "children missing education"],
    },
]


# Written after the vocabulary and fusion weights were tuned on CASES, and not used for tuning:
# their scores are the honest estimate of how retrieval does on questions it was not fitted to.
HELD_OUT: list[dict[str, Any]] = [
    {
        "id": "h-trafficking",
        "question": "children trafficked or held in modern slavery",
        "all": [r"traffick|modern slavery|national referral mechanism"],
        "labels": ["child trafficking", "modern slavery"],
    },
    {
        "id": "h-housing",
        "question": "families in temporary accommodation or facing homelessness",
        "all": [r"homeless|temporary accommodation|housing"],
        "labels": ["housing", "homelessness"],
    },
    {
        "id": "h-interpreters",
        "question": "families who needed an interpreter because English was not their first language",
        "all": [r"interpret|first language|language barrier|english as an additional"],
        "labels": ["interpreters", "language"],
    },
    {
        "id": "h-covid",
        "question": "the impact of lockdown and the pandemic on seeing children",
        "all": [r"covid|pandemic|lockdown|coronavirus"],
        "labels": ["coronavirus"],
    },
    {
        "id": "h-asylum",
        "question": "unaccompanied asylum-seeking and migrant children",
        "all": [r"asylum|refugee|unaccompanied|migrant|immigration"],
        "labels": ["asylum seekers", "refugees", "immigrants"],
    },
    {
        "id": "h-hsb",
        "question": "children who harmed siblings with harmful sexual behaviour",
        "all": [r"harmful sexual behaviour|sibling sexual abuse|sibling-to-sibling|sibling abuse|\bHSB\b"],
        "labels": ["harmful sexual behaviour", "sibling abuse"],
    },
    {
        "id": "h-medical",
        "question": "parents not giving a child their medication or treatment for a health condition",
        "all": [r"medication|diabetes|asthma|medical neglect|treatment|medical needs"],
        "labels": ["medical care neglect", "children with a chronic illness"],
    },
    {
        "id": "h-aces",
        "question": "parents' own adverse childhood experiences and trauma",
        "all": [r"adverse childhood experiences|\bACEs?\b|trauma"],
        "labels": ["adverse childhood experiences", "adults abused as children", "trauma"],
    },
    {
        "id": "h-school",
        "question": "schools spotting concerns and exclusions from school",
        "all": [r"school"],
        "any": [r"exclu|attendance|designated safeguarding lead|teacher"],
        "labels": ["exclusion from school", "schools", "school attendance"],
    },
]


def build() -> list[dict[str, Any]]:
    reviews = parse_collection().reviews
    rows = []
    for split, cases in (("tuning", CASES), ("held-out", HELD_OUT)):
        for case in cases:
            must = [re.compile(p, re.IGNORECASE) for p in case["all"]]
            alt = [re.compile(p, re.IGNORECASE) for p in case.get("any", [])]
            labels = {str(k).lower() for k in case.get("labels", [])}
            by_text, by_label = [], []
            for r in reviews:
                text = f"{r.summary}\n{r.learning}\n{r.recommendations}"
                if all(p.search(text) for p in must) and (not alt or all(p.search(text) for p in alt)):
                    by_text.append(r.review_id)
                if labels & {k.lower() for k in r.keywords}:
                    by_label.append(r.review_id)
            rows.append(
                {
                    "id": case["id"],
                    "split": split,
                    "question": case["question"],
                    "relevant": sorted(set(by_text) | set(by_label)),
                    "relevant_text": sorted(by_text),
                    "relevant_labels": sorted(by_label),
                    "criterion": {"all": case["all"], "any": case.get("any", []), "labels": sorted(labels)},
                }
            )
    return rows


if __name__ == "__main__":
    rows = build()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    for row in rows:
        print(
            f"{row['id']:24} {len(row['relevant']):3} relevant"
            f" ({len(row['relevant_text'])} by text, {len(row['relevant_labels'])} by NSPCC label)"
        )
