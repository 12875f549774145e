"""The table machinery of the error-input suites (tests/test_error_inputs_*.py), in the spirit
of PyTorch's OpInfo ``error_inputs``: an ``ErrorInput`` names an op family, a readable
description, a callable making one bad call, the exception it must raise and a regex its
message must match (the regex names the offending argument, and the shapes where they matter).
Not a test module itself: each suite builds its table and parametrises ``check`` over it."""
from __future__ import annotations

import collections
import re
from typing import Callable, NamedTuple

import pytest

# Each family lists at least this many error inputs (PyTorch's OpInfo has ~10 for conv2d).
MIN_PER_FAMILY = 7


class ErrorInput(NamedTuple):
    family: str
    description: str
    call: Callable[[], object]
    exc: type[BaseException]
    match: str
    xfail: str | None = None  # reason, when the defect lives in code this suite may not touch

    @property
    def id(self) -> str:
        return f"{self.family}-{self.description}"


def params(cases: list[ErrorInput]) -> list:
    """pytest params with ids ``family-description`` (strict xfail where a reason is given)."""
    ids = [c.id for c in cases]
    dup = [i for i, n in collections.Counter(ids).items() if n > 1]
    assert not dup, f"duplicate error-input ids: {dup}"
    return [pytest.param(c, id=c.id, marks=[pytest.mark.xfail(strict=True, reason=c.xfail)]
                         if c.xfail else []) for c in cases]


def check(case: ErrorInput) -> None:
    """The call raises ``case.exc`` (never another type) with a message matching ``case.match``."""
    try:
        case.call()
    except case.exc as e:
        # str(KeyError) is the repr of its message (quotes escaped): match the message itself
        msg = e.args[0] if isinstance(e, KeyError) and e.args else str(e)
        assert msg.strip(), f"{type(e).__name__} with an empty message"
        assert re.search(case.match, msg, re.S), (
            f"{type(e).__name__} message does not match {case.match!r}: {msg!r}")
        return
    except Exception as e:  # noqa: BLE001 - the wrong type is the failure being reported
        raise AssertionError(f"expected {case.exc.__name__}, got {type(e).__name__}: {e}") from e
    raise AssertionError(f"expected {case.exc.__name__}, but the call returned normally")


def family_counts(cases: list[ErrorInput]) -> collections.Counter:
    return collections.Counter(c.family for c in cases)


def check_family_sizes(cases: list[ErrorInput]) -> None:
    small = {f: n for f, n in family_counts(cases).items() if n < MIN_PER_FAMILY}
    assert not small, f"families with fewer than {MIN_PER_FAMILY} error inputs: {small}"
