"""Every tuned number in one place: records/tuned.toml, read once into a frozen ``Tuned`` record.

Each section holds one stage's numbers and says where they came from in ``about`` (which tuner chose
them, on which split, what they measured); a number chosen by hand says so. The tuners write their
own section (``python -m evals.<tuner> --write``) through ``write_section``, which rewrites the file
from its data, so the file stays in one form whoever wrote it last:

    [retrieval]   fusion weights                    evals.tune_retrieval --write
    [labels]      how labels are inferred           evals.tune_retrieval --write
    [coverage]    when a label is fit to count by   chosen by hand on the tuning sample
    [refusal]     the refusal decision              evals.tune_refusal --write
    [themes]      how themes are drawn              evals.tune_themes --write
    [relevance]   the relevance stage's model       evals.train_relevance --write (and --grid)
    [support]     the offline support judge         evals.calibrate --write

Consumes the TOML file; produces read-only mappings, one per section (``load_tuned()["labels"]``).
"""

from __future__ import annotations

import json
import math
import os
import tempfile
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

from records.errors import ConfigError

TUNED_FILE = Path(__file__).with_name("tuned.toml")
HEADER = (
    "# Every tuned number of Casebook, each section with where it came from (records/tuned.py reads it).\n"
    "# Written by the tuners (`python -m evals.<tuner> --write`); a section chosen by hand says so in `about`.\n"
)


@dataclass(frozen=True)
class Tuned:
    sections: Mapping[str, Mapping[str, Any]]

    def __getitem__(self, name: str) -> Mapping[str, Any]:
        try:
            return self.sections[name]
        except KeyError:
            raise ConfigError(f"tuned numbers: expected a [{name}] section in {TUNED_FILE}; found {', '.join(self.sections)}") from None


def _frozen(value: Any) -> Any:
    if isinstance(value, dict):
        return MappingProxyType({k: _frozen(v) for k, v in value.items()})
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    return value


@lru_cache(maxsize=4)
def load_tuned(path: Path = TUNED_FILE) -> Tuned:
    try:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"tuned numbers: expected a TOML file at {path} ({exc}); restore it from the repository") from exc
    return Tuned(MappingProxyType({name: _frozen(table) for name, table in data.items()}))


def write_section(name: str, values: Mapping[str, Any], about: Sequence[str], path: Path = TUNED_FILE) -> None:
    """Replace (or add) section ``name`` with ``values`` and its provenance ``about``, keeping the
    others; the file is written whole, atomically."""
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    data[name] = {"about": list(about), **{k: v for k, v in values.items() if k != "about"}}
    text = HEADER + "".join(_table(section, table) for section, table in data.items())
    tomllib.loads(text)  # what is written must read back
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tuned-", suffix=".toml")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, path)
    load_tuned.cache_clear()


def _table(name: str, table: Mapping[str, Any]) -> str:
    lines = [f"\n[{name}]"]
    subtables = []
    for key, value in table.items():
        if isinstance(value, Mapping):
            subtables.append((f"{name}.{key}", value))
        elif isinstance(value, list | tuple) and value and all(isinstance(v, str) for v in value):
            lines.append(f"{key} = [\n" + "".join(f"    {_value(v)},\n" for v in value) + "]")
        else:
            lines.append(f"{key} = {_value(value)}")
    return "\n".join(lines) + "\n" + "".join(_table(n, t) for n, t in subtables)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"tuned numbers must be finite, got {value}")
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    raise TypeError(f"a tuned value must be a number, a string or a list of them; got {type(value).__name__}")
