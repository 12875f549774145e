"""Bad arguments to tn.ops.gemm and turbonn._core.gemm: each raises TypeError/ValueError whose
message names the offending argument (and the shapes), and never crashes or writes anything."""
from __future__ import annotations

import re

import numpy as np
import pytest

import turbonn as tn
from turbonn import _core

A = np.ones((3, 4), np.float32)
B = np.ones((4, 5), np.float32)


def _strided_bytes(shape, byte_strides):
    """A float32 view whose strides are not whole elements (from a raw byte buffer)."""
    buf = np.zeros(64 * 64, np.uint8)
    return np.lib.stride_tricks.as_strided(buf[:-16].view(np.float32), shape, byte_strides)


def _misaligned(shape):
    buf = np.zeros(int(np.prod(shape)) * 4 + 1, np.uint8)
    return buf[1:].view(np.float32).reshape(shape)


BAD_OPERANDS = [
    # (label, value, exception, message fragment)
    ("float64", np.ones((3, 4)), TypeError, r"float32, got float64"),
    ("float16", np.ones((3, 4), np.float16), TypeError, r"float32, got float16"),
    ("int32", np.ones((3, 4), np.int32), TypeError, r"float32, got int32"),
    ("int64", np.ones((3, 4), np.int64), TypeError, r"float32"),
    ("bool", np.ones((3, 4), bool), TypeError, r"float32"),
    ("complex64", np.ones((3, 4), np.complex64), TypeError, r"float32"),
    ("big-endian", np.ones((3, 4), ">f4"), TypeError, r"native-endian"),
    ("list", [[1.0] * 4] * 3, TypeError, r"numpy.ndarray"),
    ("None", None, TypeError, r"numpy.ndarray"),
    ("scalar", 1.0, TypeError, r"numpy.ndarray"),
    ("1-D", np.ones(4, np.float32), ValueError, r"2-D, got shape \(4,\)"),
    ("3-D", np.ones((3, 4, 1), np.float32), ValueError, r"2-D, got shape \(3, 4, 1\)"),
    ("0-D", np.array(1.0, np.float32), ValueError, r"2-D, got shape \(\)"),
]


@pytest.mark.parametrize("label,bad,exc,frag", BAD_OPERANDS, ids=[c[0] for c in BAD_OPERANDS])
@pytest.mark.parametrize("which", ["a", "b"])
def test_bad_operand_names_argument(which, label, bad, exc, frag):
    args = (bad, B) if which == "a" else (A, bad)
    with pytest.raises(exc, match=rf"^{which} must .*{frag}"):
        tn.ops.gemm(*args)
    with pytest.raises(exc, match=rf"^{which} must .*{frag}"):
        _core.gemm(*args, False, False, 1.0, 0.0, None, "ref")


def test_float64_a_checked_before_b():
    with pytest.raises(TypeError, match=r"^a must"):
        tn.ops.gemm(np.ones((3, 4)), np.ones((4, 5)))


@pytest.mark.parametrize("which", ["a", "b"])
def test_partial_element_strides_rejected(which):
    bad = _strided_bytes((4, 4), (18, 4))  # row stride of 4.5 floats
    good = np.ones((4, 4), np.float32)
    args = (bad, good) if which == "a" else (good, bad)
    with pytest.raises(ValueError, match=rf"^{which} has strides"):
        tn.ops.gemm(*args)


@pytest.mark.parametrize("which", ["a", "b"])
def test_misaligned_operand_rejected(which):
    bad = _misaligned((4, 4))
    good = np.ones((4, 4), np.float32)
    args = (bad, good) if which == "a" else (good, bad)
    with pytest.raises(ValueError, match=rf"^{which} is not aligned"):
        tn.ops.gemm(*args)


@pytest.mark.parametrize(
    "a_shape,b_shape,ta,tb,op_a,op_b",
    [
        ((3, 4), (5, 6), False, False, "(3, 4)", "(5, 6)"),
        ((3, 4), (4, 5), True, False, "(4, 3)", "(4, 5)"),
        ((3, 4), (4, 5), False, True, "(3, 4)", "(5, 4)"),
        ((3, 4), (3, 4), False, False, "(3, 4)", "(3, 4)"),
        ((0, 4), (0, 5), False, False, "(0, 4)", "(0, 5)"),
    ],
)
def test_inner_dimension_mismatch_mentions_both_shapes(a_shape, b_shape, ta, tb, op_a, op_b):
    a, b = np.ones(a_shape, np.float32), np.ones(b_shape, np.float32)
    with pytest.raises(ValueError, match="inner dimensions") as info:
        tn.ops.gemm(a, b, trans_a=ta, trans_b=tb)
    msg = str(info.value)
    assert f"op(a) is {op_a}" in msg and f"op(b) is {op_b}" in msg, msg
    assert f"from a {a_shape}" in msg and f"from b {b_shape}" in msg, msg


def test_beta_without_out():
    with pytest.raises(ValueError, match=r"beta=.*out is None"):
        tn.ops.gemm(A, B, beta=0.5)
    with pytest.raises(ValueError, match=r"beta=.*out"):
        tn.ops.gemm(np.ones((0, 4), np.float32), B, beta=1.0)  # even for an empty result


@pytest.mark.parametrize("bad", [[[0.0] * 5] * 3, (1, 2), 3.0, "out"])
def test_out_not_an_ndarray(bad):
    with pytest.raises(TypeError, match=r"^out must be a numpy.ndarray"):
        tn.ops.gemm(A, B, out=bad)


OUT_BAD = [
    ("float64", np.zeros((3, 5)), r"^out must have dtype float32, got float64"),
    ("int32", np.zeros((3, 5), np.int32), r"^out must have dtype float32"),
    ("big-endian", np.zeros((3, 5), ">f4"), r"^out must have dtype float32"),
    ("shape", np.zeros((5, 3), np.float32), r"^out must have shape \(3, 5\), got \(5, 3\)"),
    ("1-D", np.zeros(15, np.float32), r"^out must have shape \(3, 5\), got \(15,\)"),
    ("3-D", np.zeros((3, 5, 1), np.float32), r"^out must have shape \(3, 5\)"),
    ("fortran", np.asfortranarray(np.zeros((3, 5), np.float32)), r"^out must be C-contiguous"),
    ("strided", np.zeros((3, 10), np.float32)[:, ::2], r"^out must be C-contiguous"),
    ("transposed", np.zeros((5, 3), np.float32).T, r"^out must be C-contiguous"),
]


@pytest.mark.parametrize("label,out,pattern", OUT_BAD, ids=[c[0] for c in OUT_BAD])
def test_bad_out(label, out, pattern):
    before = out.copy()
    with pytest.raises(ValueError, match=pattern):
        tn.ops.gemm(A, B, out=out)
    np.testing.assert_array_equal(out, before)  # nothing written on error


def test_read_only_out():
    out = np.zeros((3, 5), np.float32)
    out.setflags(write=False)
    with pytest.raises(ValueError, match=r"^out is read-only"):
        tn.ops.gemm(A, B, out=out)
    # a broadcast view is read-only and not C-contiguous: rejected either way, never written
    base = np.zeros((1, 1), np.float32)
    with pytest.raises(ValueError, match=r"^out (is read-only|must be C-contiguous)"):
        tn.ops.gemm(A, B, out=np.broadcast_to(base, (3, 5)))
    assert base[0, 0] == 0.0


@pytest.mark.parametrize("name", ["sse", "avx", "neon", "", "reff"])
def test_unknown_variant_names_the_argument(name):
    with pytest.raises(ValueError, match=rf"^variant={re.escape(name)}: expected one of"):
        _core.gemm(A, B, False, False, 1.0, 0.0, None, name)


@pytest.mark.parametrize("name", ["sse", "avx", "", "ref"])
def test_set_isa_unknown_name(name):
    before = _core.active_isa()
    pattern = rf"^isa={re.escape(name)}: expected one of generic, avx2, avx512"
    with pytest.raises(ValueError, match=pattern):
        _core._set_isa(name)
    assert _core.active_isa() == before


def test_set_isa_unsupported_variant():
    unsupported = [v for v in ("generic", "avx2", "avx512") if v not in _core.supported_isas()]
    if not unsupported:
        pytest.skip("this CPU supports every variant; nothing unsupported to force")
    with pytest.raises(ValueError, match="does not support"):
        _core._set_isa(unsupported[-1])


def test_errors_do_not_write_out():
    out = np.full((3, 5), 7.0, np.float32)
    for bad_a in (np.ones((3, 4)), np.ones((3, 6), np.float32), np.ones(4, np.float32)):
        with pytest.raises((TypeError, ValueError)):
            tn.ops.gemm(bad_a, B, out=out)
    assert (out == 7.0).all()
