"""embedding: fast kernel (every ISA setting) vs the plain-loop reference vs a NumPy oracle on
awkward shapes, a scatter-add backward right for repeated indices (np.add.at oracle) and
bit-identical for 1 and 2 threads, padding_idx, accumulate, errors raised before anything is
written, a float64 gradcheck, and torch parity of F.embedding and nn.Embedding."""
from __future__ import annotations

import numpy as np
import pytest

import turbonn as tn
from turbonn import _core, ops

from test_autograd import gradcheck

F = tn.nn.functional

# (num_embeddings, embedding_dim, indices shape)
CASES = [
    (5, 3, (0,)), (5, 3, (1,)), (1, 1, (7,)), (7, 1, (13,)), (13, 17, (2, 3)),
    (3, 1031, (4, 5, 2)), (97, 31, (41,)), (2, 16, (3, 0)), (11, 33, ()), (4, 2048, (9,)),
]
IDS = [f"V{v}-D{d}-n{'x'.join(map(str, s)) or 'scalar'}" for v, d, s in CASES]


def weights(V, D, seed=0):
    return np.random.default_rng(seed).standard_normal((V, D)).astype(np.float32)


def indices(V, shape, dtype=np.int64, seed=1):
    # Few distinct values for many positions: every case has repeated indices.
    return np.random.default_rng(seed).integers(0, max(V, 1), size=shape).astype(dtype)


def backward_oracle(dout, idx, V, padding_idx=None):
    """float64 np.add.at scatter of dout rows into (V, D), the padding row zero."""
    D = dout.shape[-1]
    dw = np.zeros((V, D))
    np.add.at(dw, idx.reshape(-1), dout.reshape(-1, D).astype(np.float64))
    if padding_idx is not None:
        dw[padding_idx] = 0.0
    return dw


# ------------------------------------------------------------------------ kernels vs oracle


@pytest.mark.parametrize("dtype", [np.int64, np.int32])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_forward_matches_oracle(isa, case, dtype):
    V, D, shape = case
    w, idx = weights(V, D), indices(V, shape, dtype)
    exp = w[idx]
    fast = ops.embedding_forward(w, idx)
    ref = _core.embedding_forward(w, idx, None, "ref")
    assert fast.shape == idx.shape + (D,) and fast.dtype == np.float32
    np.testing.assert_array_equal(fast, exp)
    np.testing.assert_array_equal(ref, exp)


@pytest.mark.parametrize("dtype", [np.int64, np.int32])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_backward_repeated_indices(isa, case, dtype):
    V, D, shape = case
    idx = indices(V, shape, dtype)
    dout = np.random.default_rng(2).standard_normal(idx.shape + (D,)).astype(np.float32)
    fast = ops.embedding_backward(dout, idx, V)
    ref = _core.embedding_backward(dout, idx, V, None, None, False, "ref")
    np.testing.assert_array_equal(fast, ref)  # same summation order: bit-identical
    np.testing.assert_allclose(fast, backward_oracle(dout, idx, V), rtol=1e-5, atol=1e-5)


def test_backward_one_index_many_times():
    V, D, n = 3, 37, 5000
    idx = np.full(n, 1, np.int64)
    dout = np.random.default_rng(3).standard_normal((n, D)).astype(np.float32)
    dw = ops.embedding_backward(dout, idx, V)
    np.testing.assert_allclose(dw, backward_oracle(dout, idx, V), rtol=1e-4, atol=1e-3)
    assert not dw[0].any() and not dw[2].any()


@pytest.mark.parametrize("padding_idx,row", [(0, 0), (4, 4), (-1, 6), (-7, 0)])
def test_backward_padding_idx(padding_idx, row):
    V, D = 7, 19
    idx = np.array([[0, 6, 4, 0], [6, 6, 2, 4]])
    dout = np.random.default_rng(4).standard_normal((2, 4, D)).astype(np.float32)
    for variant in (None, "ref"):
        dw = _core.embedding_backward(dout, idx, V, padding_idx, None, False, variant)
        np.testing.assert_allclose(dw, backward_oracle(dout, idx, V, row), rtol=1e-6, atol=1e-6)
        assert not dw[row].any()


def test_backward_accumulate_and_overwrite():
    V, D = 6, 40
    idx = np.array([1, 3, 1, 5])
    dout = np.random.default_rng(5).standard_normal((4, D)).astype(np.float32)
    start = np.random.default_rng(6).standard_normal((V, D)).astype(np.float32)
    for variant in (None, "ref"):
        dw = start.copy()
        res = _core.embedding_backward(dout, idx, V, 3, dw, True, variant)
        assert res is dw
        np.testing.assert_allclose(dw, start + backward_oracle(dout, idx, V, 3), rtol=1e-6,
                                   atol=1e-6)
        dw = np.full((V, D), np.nan, np.float32)  # overwrite: never-indexed rows become 0
        _core.embedding_backward(dout, idx, V, None, dw, False, variant)
        np.testing.assert_allclose(dw, backward_oracle(dout, idx, V), rtol=1e-6, atol=1e-6)
    with pytest.raises(ValueError, match="accumulate=True needs dweight"):
        ops.embedding_backward(dout, idx, V, accumulate=True)


def test_forward_into_out():
    w, idx = weights(9, 5), np.array([[8, 0], [0, 3]])
    out = np.empty((2, 2, 5), np.float32)
    assert ops.embedding_forward(w, idx, out=out) is out
    np.testing.assert_array_equal(out, w[idx])
    with pytest.raises(ValueError, match="out"):
        ops.embedding_forward(w, idx, out=np.empty((4, 5), np.float32))


def test_noncontiguous_and_big_endian_inputs():
    w = weights(20, 12)
    idx = np.arange(40).reshape(2, 20)[:, ::2] % 20
    np.testing.assert_array_equal(ops.embedding_forward(w[:, ::2], idx), w[:, ::2][idx])
    np.testing.assert_array_equal(ops.embedding_forward(w, idx.astype(">i8")), w[idx])
    np.testing.assert_array_equal(ops.embedding_forward(w, idx.astype(">i4")), w[idx])


@pytest.mark.parametrize("V,D,n", [(50, 1000, 3000), (7, 4099, 600), (1000, 64, 20000),
                                   (4, 3, 100000)])
def test_thread_count_bit_identical(V, D, n):
    idx = np.random.default_rng(7).integers(0, V, n)
    dout = np.random.default_rng(8).standard_normal((n, D)).astype(np.float32)
    w = weights(V, D)
    results = []
    for threads in (1, 2, 3):
        tn.set_num_threads(threads)
        results.append((ops.embedding_forward(w, idx), ops.embedding_backward(dout, idx, V, 0)))
    ref = _core.embedding_backward(dout, idx, V, 0, None, False, "ref")
    for out, dw in results:
        np.testing.assert_array_equal(out, w[idx])
        assert dw.tobytes() == results[0][1].tobytes()
        assert dw.tobytes() == ref.tobytes()


# ------------------------------------------------------------------------ errors


@pytest.mark.parametrize("bad", [7, -1, 2 ** 40, -(2 ** 40)])
@pytest.mark.parametrize("dtype", [np.int64, np.int32])
def test_index_out_of_range_writes_nothing(bad, dtype):
    if dtype == np.int32 and abs(bad) > 2 ** 31:
        pytest.skip("does not fit int32")
    V, D = 7, 5
    w = weights(V, D)
    idx = np.array([[0, 3], [bad, 6]], dtype)
    for variant in (None, "ref"):
        out = np.full((2, 2, D), 123.0, np.float32)
        with pytest.raises(IndexError, match=rf"\[0, 7\), got {bad}"):
            _core.embedding_forward(w, idx, out, variant)
        assert (out == 123.0).all()
        dw = np.full((V, D), 123.0, np.float32)
        for acc in (False, True):
            with pytest.raises(IndexError, match=rf"got {bad}"):
                _core.embedding_backward(np.ones((2, 2, D), np.float32), idx, V, None, dw, acc,
                                         variant)
            assert (dw == 123.0).all()


def test_empty_weight_and_indices():
    w = np.empty((0, 4), np.float32)
    assert ops.embedding_forward(w, np.empty((0,), np.int64)).shape == (0, 4)
    with pytest.raises(IndexError):
        ops.embedding_forward(w, np.array([0]))
    assert ops.embedding_backward(np.empty((3, 0), np.float32), np.array([0, 1, 1]), 2).shape \
        == (2, 0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.bool_, np.uint8, np.int16])
def test_non_integer_indices_type_error(dtype):
    w = weights(4, 3)
    idx = np.array([0, 1]).astype(dtype)
    with pytest.raises(TypeError, match="'indices'"):
        ops.embedding_forward(w, idx)
    with pytest.raises(TypeError, match="'indices'"):
        ops.embedding_backward(np.ones((2, 3), np.float32), idx, 4)
    with pytest.raises(TypeError, match="indices"):
        ops.embedding_forward(w, [0, 1])


def test_argument_errors():
    w, idx = weights(4, 3), np.array([0, 1])
    with pytest.raises(ValueError, match="weight must be 2-D"):
        ops.embedding_forward(w[0], idx)
    with pytest.raises(TypeError, match="weight"):
        ops.embedding_forward(w.astype(np.float64), idx)
    with pytest.raises(ValueError, match="dout must have shape"):
        ops.embedding_backward(np.ones((3, 3), np.float32), idx, 4)
    with pytest.raises(ValueError, match="padding_idx"):
        ops.embedding_backward(np.ones((2, 3), np.float32), idx, 4, padding_idx=4)
    with pytest.raises(ValueError, match="padding_idx"):
        ops.embedding_backward(np.ones((2, 3), np.float32), idx, 4, padding_idx=-5)
    with pytest.raises(ValueError, match="dweight"):
        ops.embedding_backward(np.ones((2, 3), np.float32), idx, 4,
                               dweight=np.zeros((4, 4), np.float32))
    with pytest.raises(ValueError, match="num_weights"):
        ops.embedding_backward(np.ones((2, 3), np.float32), idx, -1)


def test_functional_errors():
    w = tn.tensor(weights(4, 3), requires_grad=True)
    with pytest.raises(TypeError, match="'indices'.*Long, Int"):
        F.embedding(tn.tensor(np.array([0.0, 1.0], np.float32)), w)
    with pytest.raises(TypeError, match="input"):
        F.embedding([0, 1], w)
    with pytest.raises(IndexError, match="got 4"):
        F.embedding(tn.tensor(np.array([0, 4])), w)
    with pytest.raises(ValueError, match="Padding_idx must be within num_embeddings"):
        F.embedding(tn.tensor(np.array([0])), w, padding_idx=4)
    for kw in ({"max_norm": 1.0}, {"scale_grad_by_freq": True}, {"sparse": True}):
        name = next(iter(kw))
        with pytest.raises(NotImplementedError, match=name):
            F.embedding(tn.tensor(np.array([0])), w, **kw)
        with pytest.raises(NotImplementedError, match=name):
            tn.nn.Embedding(4, 3, **kw)


# ------------------------------------------------------------------------ autograd


def test_gradcheck_float64():
    idx = np.array([[1, 3, 1], [0, 1, 4]])
    gradcheck(lambda w: F.embedding(tn.tensor(idx), w), lambda w: w[idx], weights(5, 4),
              rtol=1e-4, atol=1e-4)


def test_padding_idx_gets_no_gradient():
    """The padding row passes its values forward but receives no gradient."""
    idx = np.array([2, 0, 2, 1])
    w0 = weights(3, 2)
    x = tn.tensor(w0, requires_grad=True)
    out = F.embedding(tn.tensor(idx), x, padding_idx=2)
    np.testing.assert_array_equal(out.detach().numpy(), w0[idx])
    g = np.random.default_rng(0).standard_normal(out.shape).astype(np.float32)
    out.backward(tn.tensor(g))
    np.testing.assert_allclose(x.grad.numpy(), backward_oracle(g, idx, 3, 2), rtol=1e-6)


def test_grad_accumulates_across_backward_calls_and_module_use():
    tn.manual_seed(0)
    emb = tn.nn.Embedding(6, 4, padding_idx=-1)
    assert emb.padding_idx == 5 and not emb.weight.data[5].any()
    idx = tn.tensor(np.array([[5, 1], [1, 2]]))
    emb(idx).sum().backward()
    emb(idx).sum().backward()
    exp = 2 * backward_oracle(np.ones((2, 2, 4), np.float32), idx.numpy(), 6, 5)
    np.testing.assert_allclose(emb.weight.grad.numpy(), exp)


def test_module_basics_and_seed():
    tn.manual_seed(3)
    a = tn.nn.Embedding(10, 3, padding_idx=0)
    tn.manual_seed(3)
    b = tn.nn.Embedding(10, 3, padding_idx=0)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    assert a.weight.shape == (10, 3) and a.weight.requires_grad
    assert repr(a) == "Embedding(10, 3, padding_idx=0)"
    assert repr(tn.nn.Embedding(4, 2)) == "Embedding(4, 2)"
    assert list(a.state_dict()) == ["weight"]
    tn.manual_seed(1)
    big = tn.nn.Embedding(200, 50).weight.data
    assert abs(big.mean()) < 0.02 and abs(big.std() - 1.0) < 0.02
    with pytest.raises(ValueError, match="Padding_idx"):
        tn.nn.Embedding(4, 2, padding_idx=-5)
    with pytest.raises(ValueError, match="device"):
        tn.nn.Embedding(4, 2, device="cuda")
    with pytest.raises(TypeError, match="dtype"):
        tn.nn.Embedding(4, 2, dtype=np.float64)
    tn.nn.Embedding(4, 2, device="cpu", dtype=np.float32)
    with pytest.raises(ValueError, match="Shape of weight"):
        tn.nn.Embedding(4, 2, _weight=np.zeros((2, 4), np.float32))


def test_from_pretrained():
    w = weights(5, 3)
    emb = tn.nn.Embedding.from_pretrained(w)
    assert not emb.weight.requires_grad
    assert np.shares_memory(emb.weight.data, w)  # float32 data is shared, as torch
    np.testing.assert_array_equal(emb(tn.tensor(np.array([4, 0]))).numpy(), w[[4, 0]])
    emb2 = tn.nn.Embedding.from_pretrained(tn.tensor(w), freeze=False, padding_idx=1)
    assert emb2.weight.requires_grad and emb2.padding_idx == 1
    np.testing.assert_array_equal(emb2.weight.data[1], w[1])  # padding row kept as given
    emb2(tn.tensor(np.array([1, 2, 1]))).sum().backward()
    assert not emb2.weight.grad.numpy()[1].any() and emb2.weight.grad.numpy()[2].all()
    with pytest.raises(ValueError, match="2-dimensional"):
        tn.nn.Embedding.from_pretrained(w[0])


# ------------------------------------------------------------------------ torch parity


@pytest.mark.parametrize("padding_idx", [None, 0, 3, -2])
@pytest.mark.parametrize("shape", [(7,), (3, 4), (2, 3, 5), (0,)])
def test_functional_torch_parity(shape, padding_idx):
    torch = pytest.importorskip("torch")
    V, D = 9, 6
    w = weights(V, D)
    idx = indices(V, shape)
    g = np.random.default_rng(9).standard_normal(shape + (D,)).astype(np.float32)
    tw = torch.tensor(w, dtype=torch.float64, requires_grad=True)
    t_out = torch.nn.functional.embedding(torch.from_numpy(idx), tw, padding_idx=padding_idx)
    t_out.backward(torch.tensor(g, dtype=torch.float64))
    x = tn.tensor(w, requires_grad=True)
    out = F.embedding(tn.tensor(idx), x, padding_idx=padding_idx)
    out.backward(tn.tensor(g))
    assert out.shape == tuple(t_out.shape)
    np.testing.assert_allclose(out.detach().numpy(), t_out.detach().numpy(), rtol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), tw.grad.numpy(), rtol=1e-5, atol=1e-6)


def test_int32_indices_torch_parity():
    torch = pytest.importorskip("torch")
    w, idx = weights(6, 4), indices(6, (5,), np.int32)
    t_out = torch.nn.functional.embedding(torch.from_numpy(idx), torch.from_numpy(w))
    np.testing.assert_array_equal(F.embedding(idx, tn.tensor(w)).numpy(), t_out.numpy())


def test_module_torch_parity_state_dict_both_ways():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    tm = torch.nn.Embedding(11, 5, padding_idx=-3)
    nm = tn.nn.Embedding(11, 5, padding_idx=-3)
    assert nm.padding_idx == tm.padding_idx == 8 and repr(nm) == repr(tm)
    assert not tm.weight.detach().numpy()[8].any() and not nm.weight.data[8].any()
    nm.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    idx = indices(11, (4, 6), seed=3)
    idx[0, :3] = 8
    g = np.random.default_rng(4).standard_normal((4, 6, 5)).astype(np.float32)
    t_out = tm(torch.from_numpy(idx))
    t_out.backward(torch.from_numpy(g))
    out = nm(tn.tensor(idx))
    out.backward(tn.tensor(g))
    np.testing.assert_array_equal(out.detach().numpy(), t_out.detach().numpy())
    np.testing.assert_allclose(nm.weight.grad.numpy(), tm.weight.grad.numpy(), rtol=1e-5,
                               atol=1e-6)
    tm2 = torch.nn.Embedding(11, 5)
    tm2.load_state_dict({k: torch.from_numpy(v) for k, v in nm.state_dict().items()})
    np.testing.assert_array_equal(tm2.weight.detach().numpy(), nm.weight.data)


def test_from_pretrained_torch_parity():
    torch = pytest.importorskip("torch")
    w = weights(4, 3)
    for freeze in (True, False):
        tm = torch.nn.Embedding.from_pretrained(torch.from_numpy(w.copy()), freeze=freeze,
                                                padding_idx=2)
        nm = tn.nn.Embedding.from_pretrained(w.copy(), freeze=freeze, padding_idx=2)
        assert nm.weight.requires_grad == tm.weight.requires_grad
        assert repr(nm) == repr(tm)
        np.testing.assert_array_equal(nm.weight.data, tm.weight.detach().numpy())


def test_exports():
    assert "Embedding" in tn.nn.__all__ and tn.nn.Embedding is tn.nn.sparse.Embedding
    assert "embedding" in F.__all__ and tn.functional.embedding is F.embedding
    assert {"embedding_forward", "embedding_backward"} <= set(ops.__all__)
