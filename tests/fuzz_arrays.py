"""Array strategies shared by the core-binding fuzz suites (tests/test_fuzz_core*.py): float32
inputs in every layout a binding must accept (contiguous, Fortran, strided, reversed), the bad
versions it must reject (wrong dtype, byte order, ndim, alignment, a list), and zero-stride views
whose element count overflows int32 and the machine's memory, built without allocating them."""
from __future__ import annotations

import os

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from fuzz_support import fuzz_call

ELEMENTS = st.floats(-4, 4, width=32, allow_nan=False, allow_infinity=False)

# A "huge" view has more float32 elements than the machine has bytes: any copy or output of
# its size must be refused before it is allocated (so never more than ~100 MB is touched here).
PHYS_BYTES = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGESIZE")
HUGE_MIN = max(2 ** 31 + 1, PHYS_BYTES + 1)
HUGE_MAX = 2 ** 55  # NumPy refuses views of 2**63 bytes or more (int64, times a fixed dim)

BAD_FLOAT_KINDS = ("float64", "float16", "int32", "bool", "object", "big-endian", "list",
                   "misaligned", "scalar")


def shapes(min_dims=0, max_dims=4, max_side=6):
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=0, max_side=max_side)


@st.composite
def floats(draw, shape, elements=ELEMENTS):
    """A float32 array of `shape`: C order, Fortran order, or a strided / reversed view."""
    shape = tuple(shape)
    kind = draw(st.sampled_from(["c", "fortran", "strided"]))
    if kind == "strided" and shape:
        steps = draw(st.tuples(*[st.sampled_from([1, 2, -1, -3]) for _ in shape]))
        big = draw(hnp.arrays(np.float32, tuple(n * abs(s) for n, s in zip(shape, steps)),
                              elements=elements))
        return big[tuple(slice(None, None, s) for s in steps)]
    a = draw(hnp.arrays(np.float32, shape, elements=elements))
    return np.asfortranarray(a) if kind == "fortran" and a.ndim else a


def misaligned(a: np.ndarray) -> np.ndarray:
    """The values of `a` in a buffer that starts one byte past an aligned address."""
    buf = np.zeros(a.nbytes + a.itemsize + 1, np.uint8)
    view = buf[1:1 + a.nbytes].view(a.dtype).reshape(a.shape)
    view[...] = a
    return view


def bad_float(kind: str, a: np.ndarray):
    """`a` made unacceptable as a float32 array argument in the way `kind` names."""
    if kind == "big-endian":
        return a.astype(">f4")
    if kind == "list":
        return a.tolist()
    if kind == "misaligned" and a.size:  # an empty array reads nothing: any address will do
        return misaligned(a)
    if kind == "scalar":
        return 1.5
    return a.astype({"float64": np.float64, "float16": np.float16, "int32": np.int32,
                     "bool": np.bool_, "object": object}.get(kind, np.float64))


@st.composite
def huge_shape(draw, ndim: int, fixed: dict | None = None):
    """A shape of `ndim` dims (`fixed` maps axis -> size) whose free dims alone hold between
    HUGE_MIN and HUGE_MAX elements: past int32 and, as float32, past the machine's memory, so
    any copy or output that has the free dims must be refused (an output of 1/K of the view,
    with a small fixed K, could still fit and would really be allocated)."""
    fixed = dict(fixed or {})
    free = [i for i in range(ndim) if i not in fixed]
    assert free
    total = draw(st.integers(HUGE_MIN, HUGE_MAX))
    dims = dict(fixed)
    for i in free[:-1]:  # split `total` over the free dims: a few small factors, the rest last
        d = draw(st.sampled_from([1, 2, 3, 7, 64]))
        dims[i] = d
        total = -(-total // d)
    dims[free[-1]] = total
    return tuple(dims[i] for i in range(ndim))


def huge(shape, dtype=np.float32, value=0.5) -> np.ndarray:
    """A read-only zero-stride view of `shape`: no memory behind its elements."""
    return np.broadcast_to(np.asarray(value, dtype), shape)


def run_case(family: str, names, fn, *, bad: bool, check=None):
    """One fuzz case: `fn()` must raise a clear error naming one of `names` when `bad`, else
    return a value that `check` accepts (a clear error on a valid input fails too)."""
    with fuzz_call(family, *names) as call:
        call.value = fn()
    if bad:
        assert not call.ok, f"{family}: bad input accepted, returned {type(call.value)}"
    else:
        assert call.ok, f"{family}: valid input rejected: {call.error!r}"
        if check is not None:
            check(call.value)


def assert_close(got, exp, rtol=1e-5, atol=1e-5, what=""):
    got = np.asarray(got)
    exp = np.asarray(exp, dtype=np.float64)
    assert got.shape == exp.shape, f"{what}: shape {got.shape} != {exp.shape}"
    assert got.dtype == np.float32, f"{what}: dtype {got.dtype}"
    ok = np.isclose(got.astype(np.float64), exp, rtol=rtol, atol=atol, equal_nan=True)
    if not ok.all():
        i = tuple(np.argwhere(~ok)[0])
        raise AssertionError(f"{what}: {int((~ok).sum())} of {ok.size} elements off; first at "
                             f"{i}: got {got[i]!r}, expected {exp[i]!r}")
