"""The optional language model: backends and their prompts (generate.py), and the local model's own
process (worker.py, process.py), so that a native crash costs one answer, not Casebook.
"""
