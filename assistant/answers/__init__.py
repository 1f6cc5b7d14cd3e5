"""Retrieved reviews → a cited answer: the quoting toolkit (quotes.py), the relevance stage that scores
each clause for what was asked (relevance.py), themes (themes.py), plain answers (compose.py), counts
and lists (counting.py), refusals (refusal.py), and, with a language model, its answer checked clause
by clause against its sources (writing.py, guard.py, support.py).
"""
