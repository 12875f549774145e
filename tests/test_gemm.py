"""Every GEMM variant (ref, generic, avx2, avx512) vs NumPy float64 and vs 'ref': awkward shapes,
transposes, alpha/beta, out=, views, NaN, aliasing, forced variants, thread-count determinism."""
from __future__ import annotations

import itertools
import textwrap

import numpy as np
import pytest

import turbonn as tn
from conftest import (
    ALL_ISAS,
    BLOCKING,
    KERNEL_NAMES,
    assert_gemm_close,
    assert_within,
    gemm_tolerance,
    op,
    randn,
    run_python,
    stored_shape,
)
from turbonn import _core

TRANS = list(itertools.product([False, True], repeat=2))
TRANS_IDS = ["NN", "NT", "TN", "TT"]


def gemm_v(variant, a, b, trans_a=False, trans_b=False, alpha=1.0, beta=0.0, out=None):
    """Run exactly one kernel variant (None: the active one, like tn.ops.gemm)."""
    return _core.gemm(a, b, trans_a, trans_b, alpha, beta, out, variant)


def make_operands(rng, M, N, K, trans_a, trans_b):
    return randn(rng, stored_shape(M, K, trans_a)), randn(rng, stored_shape(K, N, trans_b))


def check(variant, a, b, trans_a=False, trans_b=False, alpha=1.0, beta=0.0, c0=None, what="",
          against_ref=True):
    """Run ``variant`` (into a copy of c0 when given), compare with float64 and with 'ref'."""
    out = None if c0 is None else c0.copy()
    got = gemm_v(variant, a, b, trans_a, trans_b, alpha, beta, out)
    if out is not None:
        assert got is out, f"{what}: out= not returned"
    else:
        assert got.flags.c_contiguous and got.flags.owndata
    exp, tol = gemm_tolerance(a, b, trans_a=trans_a, trans_b=trans_b, alpha=alpha, beta=beta,
                              out=c0)
    assert_within(got, exp, tol, f"{variant} {what}")
    if against_ref and variant != "ref":
        ref_out = None if c0 is None else c0.copy()
        ref = gemm_v("ref", a, b, trans_a, trans_b, alpha, beta, ref_out)
        # Two float32 results with different summation orders: twice the budget between them.
        assert_within(got, ref.astype(np.float64), 2 * tol, f"{variant} vs ref {what}")
    return got


# --------------------------------------------------------------------------------------------
# Shapes

DIMS = (0, 1, 2, 3, 5, 9, 11, 12, 13, 16, 17, 31, 32, 33, 37)
KS = (0, 1, 2, 3, 5, 13, 33)


@pytest.mark.parametrize("trans_a,trans_b", TRANS, ids=TRANS_IDS)
@pytest.mark.parametrize("M", DIMS)
def test_awkward_small_shapes(variant, rng, M, trans_a, trans_b):
    # All N x K combinations per M: register-tile edges (MR 4/6/12, NR 16/32) from both sides.
    for N, K in itertools.product(DIMS, KS):
        a, b = make_operands(rng, M, N, K, trans_a, trans_b)
        check(variant, a, b, trans_a, trans_b, what=f"M={M} N={N} K={K}")


# Block edges of every variant (MR/NR tiles, KC, NC and MC +-1) plus a fixed list around 384/480;
# each fast variant runs all of them, the reference the ones it does quickly.
def block_edge_shapes(name):
    blk = BLOCKING[name]
    MR, NR, KC, NC, MC = blk["MR"], blk["NR"], blk["KC"], blk["NC"], blk["MC"]
    return [
        (MR - 1, NR - 1, KC - 1), (MR, NR, KC), (MR + 1, NR + 1, KC + 1),
        (2 * MR + 1, 2 * NR + 1, 2 * KC + 1),
        (13, NC - 1, 37), (13, NC, 37), (7, NC + 1, KC + 1), (MR + 1, 2 * NC + 1, 5),
        (MC - 1, 9, 5), (MC, 3, 17), (MC + 1, 17, KC + 1),
    ]


FIXED_EDGE_SHAPES = [
    (11, 31, 383), (12, 32, 384), (13, 33, 385),
    (31, 479, 13), (32, 480, 12), (33, 481, 11),
    (383, 13, 31), (384, 12, 32), (385, 11, 33),
    (479, 37, 481), (2, 481, 479),
]
EDGE_SHAPES = sorted(set(FIXED_EDGE_SHAPES).union(*(block_edge_shapes(n) for n in ALL_ISAS)))
REF_MAX_WORK = 3_000_000  # multiply-adds: the plain-loop reference only where it is quick
EDGE_IDS = [f"{m}x{n}x{k}" for m, n, k in EDGE_SHAPES]
REF_EDGE_SHAPES = [s for s in EDGE_SHAPES if s[0] * s[1] * s[2] <= REF_MAX_WORK]


def _check_edge_shape(variant, rng, M, N, K):
    for (trans_a, trans_b) in TRANS:
        a, b = make_operands(rng, M, N, K, trans_a, trans_b)
        check(variant, a, b, trans_a, trans_b, against_ref=M * N * K <= REF_MAX_WORK,
              what=f"{M}x{N}x{K} ta={trans_a} tb={trans_b}")


@pytest.mark.parametrize("M,N,K", EDGE_SHAPES, ids=EDGE_IDS)
def test_block_edge_shapes(fast_variant, rng, M, N, K):
    _check_edge_shape(fast_variant, rng, M, N, K)


@pytest.mark.parametrize("M,N,K", REF_EDGE_SHAPES,
                         ids=[f"{m}x{n}x{k}" for m, n, k in REF_EDGE_SHAPES])
def test_block_edge_shapes_reference(rng, M, N, K):
    # The plain-loop reference only where it is quick; the fast variants cover the rest.
    _check_edge_shape("ref", rng, M, N, K)


@pytest.mark.parametrize("M,N,K", [(2049, 3, 5), (3, 2049, 5), (5, 3, 2049), (1, 1, 2049),
                                   (2049, 1, 1)])
def test_one_large_dimension(variant, rng, M, N, K):
    for (trans_a, trans_b) in TRANS:
        a, b = make_operands(rng, M, N, K, trans_a, trans_b)
        check(variant, a, b, trans_a, trans_b, what=f"{M}x{N}x{K} ta={trans_a} tb={trans_b}")


def test_larger_problem_fast_variants(fast_variant, rng):
    # Several blocks in every dimension of every variant; float64 oracle only (no ref).
    M, N, K = 257, 1001, 773
    for (trans_a, trans_b) in [(False, False), (True, True)]:
        a, b = make_operands(rng, M, N, K, trans_a, trans_b)
        c0 = randn(rng, (M, N))
        check(fast_variant, a, b, trans_a, trans_b, alpha=-0.75, beta=2.5, c0=c0,
              against_ref=False, what=f"{M}x{N}x{K} ta={trans_a} tb={trans_b}")


# --------------------------------------------------------------------------------------------
# alpha, beta and out=

SCALARS = (0.0, 1.0, -0.75, 2.5)


@pytest.mark.parametrize("M,N,K", [(13, 33, 9), (12, 32, 385), (5, 17, 0), (37, 31, 513)])
@pytest.mark.parametrize("alpha", SCALARS)
def test_alpha_beta_out(variant, rng, M, N, K, alpha):
    a, b = make_operands(rng, M, N, K, False, True)
    for beta in SCALARS:
        c0 = randn(rng, (M, N))
        check(variant, a, b, False, True, alpha=alpha, beta=beta, c0=c0,
              what=f"{M}x{N}x{K} alpha={alpha} beta={beta}")
        if beta == 0.0:  # out=None only allowed with beta == 0
            check(variant, a, b, False, True, alpha=alpha, what=f"{M}x{N}x{K} alpha={alpha}")


def test_public_gemm_uses_out_and_defaults(rng):
    a, b = randn(rng, (9, 13)), randn(rng, (13, 5))
    a_copy, b_copy = a.copy(), b.copy()
    out = np.full((9, 5), 7.0, dtype=np.float32)
    res = tn.ops.gemm(a, b, out=out)
    assert res is out
    assert_gemm_close(out, a, b)
    np.testing.assert_array_equal(a, a_copy)  # inputs untouched
    np.testing.assert_array_equal(b, b_copy)
    c0 = out.copy()
    tn.ops.gemm(a, b, alpha=2.5, beta=-0.75, out=out)
    assert_gemm_close(out, a, b, alpha=2.5, beta=-0.75, out=c0)
    new = tn.ops.gemm(b, a, trans_a=True, trans_b=True)
    assert new.shape == (5, 9) and new.dtype == np.float32 and new.flags.c_contiguous
    assert_gemm_close(new, b, a, trans_a=True, trans_b=True)


def test_public_gemm_matches_active_variant_bitwise(rng):
    a, b = randn(rng, (77, 130)), randn(rng, (130, 45))
    np.testing.assert_array_equal(tn.ops.gemm(a, b), gemm_v(_core.active_isa(), a, b))


# --------------------------------------------------------------------------------------------
# Zero sizes

@pytest.mark.parametrize("M,N", [(1, 1), (13, 33), (12, 32), (5, 481)])
def test_k_zero_gives_beta_out(variant, rng, M, N):
    a, b = np.empty((M, 0), np.float32), np.empty((0, N), np.float32)
    z = gemm_v(variant, a, b)
    assert z.shape == (M, N)
    np.testing.assert_array_equal(z, np.zeros((M, N), np.float32))
    # beta == 0: out is overwritten with zeros, its NaN not read
    out = np.full((M, N), np.nan, np.float32)
    assert gemm_v(variant, a, b, alpha=2.5, out=out) is out
    np.testing.assert_array_equal(out, np.zeros((M, N), np.float32))
    # beta != 0: beta * out
    c0 = randn(rng, (M, N))
    out = c0.copy()
    gemm_v(variant, a, b, alpha=2.5, beta=-0.75, out=out)
    np.testing.assert_array_equal(out, np.float32(-0.75) * c0)
    # transposed zero-K operands
    z = gemm_v(variant, np.empty((0, M), np.float32), np.empty((N, 0), np.float32), True, True)
    np.testing.assert_array_equal(z, np.zeros((M, N), np.float32))


@pytest.mark.parametrize("M,N,K", [(0, 5, 3), (5, 0, 3), (0, 0, 3), (0, 0, 0), (0, 7, 0),
                                   (2049, 0, 5), (0, 2049, 5)])
def test_m_or_n_zero(variant, M, N, K):
    a, b = np.ones((M, K), np.float32), np.ones((K, N), np.float32)
    res = gemm_v(variant, a, b)
    assert res.shape == (M, N) and res.dtype == np.float32
    out = np.empty((M, N), np.float32)
    assert gemm_v(variant, a, b, alpha=2.0, beta=1.5, out=out) is out
    res_t = gemm_v(variant, np.ones((K, M), np.float32), np.ones((N, K), np.float32), True, True)
    assert res_t.shape == (M, N)


# --------------------------------------------------------------------------------------------
# Non-contiguous inputs, read in place

def strided_views(rng, M, N, K):
    """Yield (label, a, b) with op(a) (M, K) and op(b) (K, N) as various strided views."""
    big_a = randn(rng, (3 * M + 2, 3 * K + 2))
    big_b = randn(rng, (3 * K + 2, 3 * N + 2))
    yield "step-slices", big_a[1:1 + 2 * M:2, 2:2 + 3 * K:3], big_b[::3][:K, 1:1 + 2 * N:2]
    yield "negative-strides", big_a[::-1][:M, ::-2][:, :K], big_b[-1::-2][:K, ::-1][:, :N]
    yield "fortran", np.asfortranarray(randn(rng, (M, K))), np.asfortranarray(randn(rng, (K, N)))
    yield "transposed-views", randn(rng, (K, M)).T, randn(rng, (N, K)).T
    yield "row-broadcast", np.broadcast_to(randn(rng, (1, K)), (M, K)), \
        np.broadcast_to(randn(rng, (1, N)), (K, N))
    yield "col-broadcast", np.broadcast_to(randn(rng, (M, 1)), (M, K)), \
        np.broadcast_to(randn(rng, (K, 1)), (K, N))
    yield "scalar-broadcast", np.broadcast_to(np.float32(0.5), (M, K)), \
        np.broadcast_to(np.float32(-2.0), (K, N))
    yield "column-of-3d", randn(rng, (M, K, 3))[:, :, 1], randn(rng, (K, 2, N))[:, 1, :]


@pytest.mark.parametrize("M,N,K", [(5, 3, 7), (13, 33, 37), (37, 45, 391)])
def test_non_contiguous_inputs(variant, rng, M, N, K):
    for label, a, b in strided_views(rng, M, N, K):
        assert op(a, False).shape == (M, K) and b.shape == (K, N), label
        a_before, b_before = a.copy(), b.copy()
        for (ta, tb) in TRANS:
            # op(x) transposes: pass x.T with the flag so op(x.T) is the same matrix.
            aa, bb = (a.T if ta else a), (b.T if tb else b)
            c0 = randn(rng, (M, N))
            check(variant, aa, bb, ta, tb, alpha=-0.75, beta=2.5, c0=c0,
                  what=f"{label} {M}x{N}x{K} ta={ta} tb={tb}")
        np.testing.assert_array_equal(a, a_before)
        np.testing.assert_array_equal(b, b_before)


# --------------------------------------------------------------------------------------------
# NaN semantics

@pytest.mark.parametrize("M,N,K", [(1, 1, 1), (13, 33, 5), (12, 32, 385), (37, 481, 3)])
def test_nan_in_out_not_read_when_beta_zero(variant, rng, M, N, K):
    for (ta, tb) in TRANS:
        a, b = make_operands(rng, M, N, K, ta, tb)
        out = np.full((M, N), np.nan, np.float32)
        gemm_v(variant, a, b, ta, tb, 1.5, 0.0, out)
        assert not np.isnan(out).any(), f"NaN from out leaked, ta={ta} tb={tb}"
        assert_gemm_close(out, a, b, trans_a=ta, trans_b=tb, alpha=1.5)
        out[:] = np.inf
        gemm_v(variant, a, b, ta, tb, 1.0, 0.0, out)
        assert np.isfinite(out).all()


@pytest.mark.parametrize("M,N,K", [(13, 33, 5), (12, 32, 385), (37, 45, 9)])
def test_nan_in_inputs_propagates(variant, rng, M, N, K):
    for (ta, tb) in TRANS:
        a, b = make_operands(rng, M, N, K, ta, tb)
        i, k, j = M - 1, K // 2, N // 3
        op(a, ta)[i, k] = np.nan
        res = gemm_v(variant, a, b, ta, tb)
        assert np.isnan(res[i]).all(), f"row {i} should be NaN, ta={ta} tb={tb}"
        rest = np.delete(res, i, axis=0)
        assert not np.isnan(rest).any()
        a, b = make_operands(rng, M, N, K, ta, tb)
        op(b, tb)[k, j] = np.nan
        res = gemm_v(variant, a, b, ta, tb)
        assert np.isnan(res[:, j]).all() and not np.isnan(np.delete(res, j, axis=1)).any()
    # NaN in out with beta != 0 propagates (NaN in, NaN out)
    a, b = make_operands(rng, M, N, K, False, False)
    out = randn(rng, (M, N))
    out[2, 3] = np.nan
    gemm_v(variant, a, b, False, False, 1.0, 0.5, out)
    assert np.isnan(out[2, 3]) and np.isnan(out).sum() == 1


# --------------------------------------------------------------------------------------------
# out aliasing a or b

@pytest.mark.parametrize("n", [5, 13, 33, 97])
def test_out_aliasing_inputs(variant, rng, n):
    for beta in (0.0, 0.5):
        for (ta, tb) in TRANS:
            a0, b0 = randn(rng, (n, n)), randn(rng, (n, n))
            a = a0.copy()
            res = gemm_v(variant, a, b0, ta, tb, 1.25, beta, a)   # out is a
            assert res is a
            assert_gemm_close(a, a0, b0, trans_a=ta, trans_b=tb, alpha=1.25, beta=beta, out=a0,
                              what=f"out=a beta={beta} ta={ta} tb={tb}")
            b = b0.copy()
            gemm_v(variant, a0, b, ta, tb, 1.25, beta, b)          # out is b
            assert_gemm_close(b, a0, b0, trans_a=ta, trans_b=tb, alpha=1.25, beta=beta, out=b0,
                              what=f"out=b beta={beta} ta={ta} tb={tb}")
            x0 = randn(rng, (n, n))
            x = x0.copy()
            gemm_v(variant, x, x, ta, tb, 1.0, beta, x)            # out is a and b
            assert_gemm_close(x, x0, x0, trans_a=ta, trans_b=tb, beta=beta, out=x0,
                              what=f"out=a=b beta={beta} ta={ta} tb={tb}")


def test_out_partially_overlapping_input(variant, rng):
    M, N, K = 9, 13, 13
    buf0 = randn(rng, (2 * M, N))
    buf = buf0.copy()
    out = buf[:M]                       # C-contiguous rows 0..M-1
    a = buf[M // 2: M // 2 + M, :K]     # overlaps the bottom half of out
    a0 = buf0[M // 2: M // 2 + M, :K].copy()
    b0 = randn(rng, (K, N))
    gemm_v(variant, a, b0, False, False, 1.0, -0.75, out)
    assert_gemm_close(buf[:M], a0, b0, beta=-0.75, out=buf0[:M])
    np.testing.assert_array_equal(buf[M:], buf0[M:])   # nothing outside out written
    # a reversed view of the same memory as out
    c0 = randn(rng, (M, M))
    c = c0.copy()
    gemm_v(variant, c[::-1, ::-1], b0[:M, :M], False, False, 1.0, 0.5, c)
    assert_gemm_close(c, c0[::-1, ::-1], b0[:M, :M], beta=0.5, out=c0)


def test_out_rows_around_result_untouched(variant, rng):
    # Writing must stay inside out: guard rows before/after in the same buffer.
    M, N, K = 13, 33, 17
    buf = np.full((M + 2, N), 123.0, np.float32)
    out = buf[1:M + 1]
    a, b = randn(rng, (M, K)), randn(rng, (K, N))
    gemm_v(variant, a, b, False, False, 1.0, 0.0, out)
    assert (buf[0] == 123.0).all() and (buf[-1] == 123.0).all()
    assert_gemm_close(out, a, b)


# --------------------------------------------------------------------------------------------
# Forced variants

def test_set_isa_forces_public_gemm(fast_variant, rng):
    _core._set_isa(fast_variant)   # the autouse fixture restores the original
    assert _core.active_isa() == fast_variant
    assert _core.build_info()["gemm_kernel"] == KERNEL_NAMES[fast_variant]
    for (M, N, K) in [(13, 33, 37), (130, 481, 385)]:
        a, b = randn(rng, (M, K)), randn(rng, (K, N))
        got = tn.ops.gemm(a, b)
        np.testing.assert_array_equal(got, gemm_v(fast_variant, a, b))
        assert_gemm_close(got, a, b)


def test_variants_differ_only_by_rounding(rng):
    # Sanity check that variants are really distinct kernels yet agree numerically.
    a, b = randn(rng, (64, 1000)), randn(rng, (1000, 48))
    results = {v: gemm_v(v, a, b) for v in ("ref",) + tuple(_core.supported_isas())}
    for v, r in results.items():
        assert_gemm_close(r, a, b, what=v)


def test_turbonn_cpu_env_forces_variant(fast_variant, rng, tmp_path):
    M, N, K = 37, 45, 391
    a, b = randn(rng, (K, M)), randn(rng, (K, N))
    np.save(tmp_path / "a.npy", a)
    np.save(tmp_path / "b.npy", b)
    code = textwrap.dedent(f"""
        import numpy as np, turbonn as tn
        from turbonn import _core
        a = np.load({str(tmp_path / 'a.npy')!r}); b = np.load({str(tmp_path / 'b.npy')!r})
        np.save({str(tmp_path / 'c.npy')!r}, tn.ops.gemm(a, b, trans_a=True))
        print(_core.active_isa(), _core.build_info()["gemm_kernel"])
    """)
    proc = run_python(code, {"TURBONN_CPU": fast_variant})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == [fast_variant, KERNEL_NAMES[fast_variant]]
    got = np.load(tmp_path / "c.npy")
    np.testing.assert_array_equal(got, gemm_v(fast_variant, a, b, True, False))
    assert_gemm_close(got, a, b, trans_a=True)


# --------------------------------------------------------------------------------------------
# Threads: C is split across threads without changing any element's summation order.

THREAD_SHAPES = [(257, 129, 385), (13, 1000, 77), (1000, 17, 50), (96, 96, 800), (97, 481, 3)]


@pytest.mark.parametrize("M,N,K", THREAD_SHAPES, ids=[f"{m}x{n}x{k}" for m, n, k in THREAD_SHAPES])
def test_bit_identical_across_thread_counts(fast_variant, rng, M, N, K):
    for (ta, tb) in [(False, False), (True, False), (False, True)]:
        a, b = make_operands(rng, M, N, K, ta, tb)
        c0 = randn(rng, (M, N))
        results = {}
        for n in (1, 2, 3):
            tn.set_num_threads(n)
            results[n] = gemm_v(fast_variant, a, b, ta, tb, 0.75, -1.5, c0.copy())
        np.testing.assert_array_equal(results[1], results[2], err_msg=f"1 vs 2 threads ta={ta}")
        np.testing.assert_array_equal(results[1], results[3], err_msg=f"1 vs 3 threads ta={ta}")
        assert_gemm_close(results[2], a, b, trans_a=ta, trans_b=tb, alpha=0.75, beta=-1.5, out=c0)


# Skinny M flips per-thread paths (e.g. B read in place when a thread's share is one MR panel):
# a split along M must still give the same bits as one thread.
def skinny_thread_shapes(name):
    MR, NR = BLOCKING[name]["MR"], BLOCKING[name]["NR"]
    K = -(-(1 << 21) // (2 * MR * NR))  # enough multiply-adds for 2 threads
    # ... and one MR panel against long rows of B (short K blocks that stream B).
    return [(2 * MR, NR, K), (2 * MR - 1, NR + 3, K), (MR + 1, 2 * NR, K), (MR, 2053, 77),
            (1, 3000, 64), (MR - 1, 4096, 100), (MR, 1500, 100)]


def test_bit_identical_across_thread_counts_skinny(fast_variant, rng):
    for (M, N, K) in skinny_thread_shapes(fast_variant):
        a, b = randn(rng, (M, K)), randn(rng, (K, N))
        c0 = randn(rng, (M, N))
        results = []
        for n in (1, 2):
            tn.set_num_threads(n)
            results.append(gemm_v(fast_variant, a, b, False, False, 1.0, 0.5, c0.copy()))
        np.testing.assert_array_equal(results[0], results[1], err_msg=f"{M}x{N}x{K}")
        assert_gemm_close(results[0], a, b, beta=0.5, out=c0, what=f"{M}x{N}x{K}")


# --------------------------------------------------------------------------------------------
# Memory bounds: nothing outside an operand is read or written.

@pytest.mark.parametrize("M", [1, 5, 6, 12, 13])
def test_values_beside_a_view_are_never_used(variant, rng, M):
    # Views into bigger arrays whose other elements are NaN: kernels that read B (or A) in place
    # must not let neighbouring columns/rows leak into the result.
    for N, K in [(1, 3), (7, 17), (17, 40), (33, 5), (45, 390)]:
        big_a = np.full((M + 2, K + 5), np.nan, np.float32)
        big_b = np.full((K + 2, N + 7), np.nan, np.float32)
        a = big_a[1:M + 1, 2:K + 2]
        b = big_b[1:K + 1, 3:N + 3]
        a[...] = randn(rng, (M, K))
        b[...] = randn(rng, (K, N))
        for ta, tb in TRANS:
            aa, bb = (a.T if ta else a), (b.T if tb else b)
            got = gemm_v(variant, aa, bb, ta, tb)
            assert_gemm_close(got, aa, bb, trans_a=ta, trans_b=tb,
                              what=f"{variant} {M}x{N}x{K} ta={ta} tb={tb}")


GUARD_PAGE_SCRIPT = r'''
import ctypes, mmap, sys
import numpy as np
from turbonn import _core

PAGE = mmap.PAGESIZE
libc = ctypes.CDLL(None, use_errno=True)
libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
keep = []

def guarded(shape, at_end):
    """C-contiguous float32 array touching a PROT_NONE page right after its end or before its
    start."""
    nbytes = int(np.prod(shape)) * 4
    npages = max(1, -(-nbytes // PAGE))
    mm = mmap.mmap(-1, (npages + 2) * PAGE)
    buf = np.frombuffer(mm, dtype=np.uint8)
    base = buf.ctypes.data
    for page in (0, npages + 1):
        assert libc.mprotect(base + page * PAGE, PAGE, 0) == 0
    keep.append((mm, buf))
    start = PAGE + (npages * PAGE - nbytes if at_end else 0)
    return buf[start:start + nbytes].view(np.float32).reshape(shape)

rng = np.random.default_rng(0)
variant = sys.argv[1]
worst = 0.0
for M, N, K in [(1, 1, 1), (1, 7, 3), (5, 17, 40), (6, 33, 17), (12, 45, 5), (13, 31, 390),
                (64, 200, 300)]:
    for ta in (False, True):
        for tb in (False, True):
            for at_end in (True, False):
                for flip in (False, True):
                    a = guarded((K, M) if ta else (M, K), at_end)
                    b = guarded((N, K) if tb else (K, N), at_end)
                    a[...] = rng.standard_normal(a.shape)
                    b[...] = rng.standard_normal(b.shape)
                    if flip:  # negative strides walk towards the other guard page
                        a, b = a[::-1, ::-1], b[::-1, ::-1]
                    out = guarded((M, N), at_end)
                    out[...] = rng.standard_normal(out.shape)
                    c0 = out.astype(np.float64)
                    print(variant, M, N, K, ta, tb, at_end, flip, flush=True)
                    _core.gemm(a, b, ta, tb, 1.0, 0.5, out, variant)
                    A = (a.T if ta else a).astype(np.float64)
                    B = (b.T if tb else b).astype(np.float64)
                    exp = A @ B + 0.5 * c0
                    scale = np.abs(A) @ np.abs(B) + 0.5 * np.abs(c0)
                    worst = max(worst, float((np.abs(out - exp) / scale).max()))
print("done", worst)
'''


def test_no_reads_or_writes_outside_operands(variant):
    """Operands and out abut PROT_NONE pages (after the end, or before the start with negative
    strides): an out-of-bounds access segfaults the child process, which we report."""
    proc = run_python(GUARD_PAGE_SCRIPT.replace("sys.argv[1]", repr(variant)))
    last = proc.stdout.strip().splitlines()[-1:] or ["<no output>"]
    assert proc.returncode == 0, (f"child died with rc={proc.returncode} on case "
                                  f"(variant M N K ta tb at_end flip) {last[0]}: "
                                  f"{proc.stderr.strip()[-500:]}")
    worst = float(last[0].split()[1])
    assert last[0].startswith("done") and worst < 1e-5, last[0]
