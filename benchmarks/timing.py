"""Questions the speed benchmarks ask (the same five everywhere, so their figures compare)."""

QUESTIONS = [
    "What did reviews say about bruising in non-mobile babies?",
    "young people groomed into county lines drug dealing",
    "unsafe sleep and co-sleeping after alcohol",
    "fathers and men who were not seen by professionals",
    "children educated at home or missing from school",
]
