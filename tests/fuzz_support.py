"""Shared machinery of the binding fuzz suites (tests/test_fuzz_*.py): hypothesis settings whose
example counts scale with ``pytest --fuzz``, and a recorder that counts, per op family, every case
tried and how it ended (computed, or which exception), for the summary pytest prints at the end.

Contract every fuzzed call must meet: it either returns the right answer or raises one of
CLEAR_ERRORS with a message that names the offending argument; anything else (a crash, another
exception type, a wrong answer) fails the test."""
from __future__ import annotations

import collections
import json
import os
import re
from contextlib import contextmanager

from hypothesis import HealthCheck, settings

# Exceptions a binding may raise for bad input. Anything else is a bug.
CLEAR_ERRORS = (TypeError, ValueError, IndexError, MemoryError, OverflowError)

# Cases per family: CI runs a few hundred per family; `pytest --fuzz` at least 1,000.
FUZZ = os.environ.get("TURBONN_FUZZ", "") not in ("", "0")
FUZZ_MIN_PER_FAMILY = 1000


def fuzz_settings(examples: int) -> settings:
    """Settings for one property test: `examples` in CI, 10x that (and random seeds) under --fuzz.
    CI's runs are derandomized so they cannot flake; --fuzz explores new inputs each run."""
    return settings(max_examples=examples * (10 if FUZZ else 1), deadline=None,
                    derandomize=not FUZZ, database=None if not FUZZ else settings().database,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])


# family -> Counter(outcome -> count); outcome is "ok" or an exception type name.
OUTCOMES: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)


class Call:
    """What one fuzzed call did: `value` when it returned, `error` when it raised."""
    value = None
    error: BaseException | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@contextmanager
def fuzz_call(family: str, *names: str):
    """Run the body as one fuzz case of `family`. A returned value is the caller's to check; an
    exception must be one of CLEAR_ERRORS whose message names one of `names` (when given):
    that is recorded and swallowed, anything else propagates and fails the test.

        with fuzz_call("linear", "x", "weight") as call:
            call.value = _core.linear_forward(x, w, b)
        if call.ok: ...check call.value...
    """
    call = Call()
    try:
        yield call
    except CLEAR_ERRORS as e:
        call.error = e
        OUTCOMES[family][type(e).__name__] += 1
        msg = str(e)
        assert msg.strip(), f"{family}: {type(e).__name__} with an empty message"
        if names and not isinstance(e, MemoryError):
            assert any(re.search(rf"\b{re.escape(n)}\b", msg) for n in names), (
                f"{family}: {type(e).__name__} message names none of {names}: {msg!r}")
        return
    except BaseException as e:
        OUTCOMES[family][f"UNEXPECTED {type(e).__name__}"] += 1
        raise
    OUTCOMES[family]["ok"] += 1


def summary_lines() -> list[str]:
    """The per-family table pytest prints at the end of a run with fuzz cases."""
    if not OUTCOMES:
        return []
    kinds = sorted({k for c in OUTCOMES.values() for k in c}, key=lambda k: (k != "ok", k))
    head = f"{'family':<14}{'cases':>8}" + "".join(f"{k:>15}" for k in kinds)
    lines = [head]
    total = collections.Counter()
    for fam in sorted(OUTCOMES):
        c = OUTCOMES[fam]
        total.update(c)
        lines.append(f"{fam:<14}{sum(c.values()):>8}" + "".join(f"{c[k]:>15}" for k in kinds))
    lines.append(f"{'all':<14}{sum(total.values()):>8}" + "".join(f"{total[k]:>15}" for k in kinds))
    return lines


def write_report(path: str) -> None:
    with open(path, "w") as f:
        json.dump({fam: dict(c) for fam, c in sorted(OUTCOMES.items())}, f, indent=1, sort_keys=True)


def short_families() -> list[str]:
    """Families with fewer than FUZZ_MIN_PER_FAMILY cases (checked at the end of --fuzz runs)."""
    return [f for f, c in OUTCOMES.items() if sum(c.values()) < FUZZ_MIN_PER_FAMILY]
