"""The case registry: every module in this package defines ``CASES``, a list of :class:`Case`.

A new op family is a new module here (``bench/cases/conv.py`` ...); it is picked up automatically.
"""
from __future__ import annotations

import importlib
import pkgutil
import zlib
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional

# The libraries a case can be timed with, in the order of the table's columns.
LIBS = ("turbonn", "numpy", "torch")
LABELS = {"turbonn": "ours", "numpy": "numpy", "torch": "torch"}

# A setup function builds the inputs (seeded, untimed) and returns the zero-arg callable to time.
# The callable should return its output array/tensor: the worker checksums it once.
Setup = Callable[[], Callable[[], object]]


@dataclass
class Case:
    name: str                                   # unique; --filter matches substrings of it
    setup: Dict[str, Setup]                     # library name -> setup; a missing library shows '-'
    flops: Optional[float] = None               # work per call, for GFLOP/s (compute-bound cases)
    bytes: Optional[float] = None               # traffic per call, for GB/s (memory-bound cases)
    quick: bool = False                         # part of the --quick subset
    note: str = ""                              # one line for --list
    family: str = field(default="", compare=False)

    def seed(self) -> int:
        """A seed that depends only on the name, so every library gets the same data."""
        return zlib.crc32(self.name.encode())

    def rate(self, seconds: float):
        """(value, unit) for a per-call time: GFLOP/s when flops are known, else GB/s."""
        if seconds <= 0:
            return None, ""
        if self.flops:
            return self.flops / seconds / 1e9, "GFLOP/s"
        if self.bytes:
            return self.bytes / seconds / 1e9, "GB/s"
        return None, ""


_REGISTRY: Optional[Dict[str, Case]] = None


def all_cases() -> Dict[str, Case]:
    """Every case of every module in this package, by name, in module then definition order."""
    global _REGISTRY
    if _REGISTRY is None:
        registry: Dict[str, Case] = {}
        for mod_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
            if mod_info.name.startswith("_"):
                continue
            module = importlib.import_module(f"{__name__}.{mod_info.name}")
            for case in getattr(module, "CASES", []):
                if case.name in registry:
                    raise ValueError(f"duplicate bench case name {case.name!r} in {module.__name__}")
                case.family = mod_info.name
                registry[case.name] = case
        _REGISTRY = registry
    return _REGISTRY


def select(filters: List[str], quick: bool) -> List[Case]:
    """The cases whose name contains any of ``filters`` (all when empty), only quick ones if asked."""
    chosen = []
    for case in all_cases().values():
        if quick and not case.quick:
            continue
        if filters and not any(f in case.name for f in filters):
            continue
        chosen.append(case)
    return chosen
