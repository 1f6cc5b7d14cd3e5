"""Casebook's prompts and word lists (TOML and text files): the data the answers are read and written
with. ``FOLDER`` is where they are; every module reads them from here."""

from pathlib import Path

FOLDER = Path(__file__).resolve().parent
