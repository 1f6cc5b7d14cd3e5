"""The reviews that answer a question: ranking and fusion (ranking.py), the safeguarding vocabulary
(vocabulary.py), the user's filters checked (filters.py), what the question is about and how many
reviews discuss it (coverage.py), and the collection's statistics (stats.py). Consumes the store and
its catalog and what question/ read; produces ``SearchResult`` records.
"""
