"""Casebook's exception tree. Every message says what was expected, what was found, and what to do.

    CasebookError
     ├── ConfigError        a setting or config file is wrong
     ├── InputError         a question, path or filter from the user is not usable
     │    └── FilterError   an unknown filter value (the message lists the valid ones)
     ├── SourceError        one source file cannot be read (ingest reports it and goes on)
     ├── IndexNotReady      nothing is indexed yet
     ├── StoreError         the vector store cannot be reached or is inconsistent
     │    └── IndexBusy     another ingest holds the collection (it names which, and until when)
     └── GenerationError    the language model could not answer (not installed, down, slow, failed);
          │                 answers fall back to the extractive one and say so
          └── ModelStopped  the model's process died (a native crash, killed); it is restarted

Each surface (CLI, web app, Python API) turns these into its own form in exactly one place.
"""

from __future__ import annotations


class CasebookError(Exception):
    """Base of all errors Casebook expects and can explain."""


class ConfigError(CasebookError):
    pass


class InputError(CasebookError):
    pass


class FilterError(InputError):
    pass


class SourceError(CasebookError):
    pass


class IndexNotReady(CasebookError):
    pass


class StoreError(CasebookError):
    pass


class IndexBusy(StoreError):
    pass


class GenerationError(CasebookError):
    pass


class ModelStopped(GenerationError):
    pass
