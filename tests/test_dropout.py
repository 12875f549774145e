"""Dropout: fast kernels vs the reference (bit for bit: the mask is a pure function of the seed and
the element index), mask statistics, determinism under manual_seed and across thread counts,
p = 0 / p = 1, eval mode, gradients, torch's arithmetic and repr, and error inputs."""
from __future__ import annotations

import numpy as np
import pytest

import turbonn as tn
from turbonn import _core

from test_autograd import gradcheck

F = tn.nn.functional
SIZES = [0, 1, 2, 3, 5, 17, 33, 65537, 300007]


def data(n, seed=0):
    return np.random.default_rng(seed + n).standard_normal(n).astype(np.float32)


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("p", [0.0, 0.1, 0.5, 0.9, 1.0])
def test_fast_equals_reference(n, p, isa):
    x, g = data(n), data(n, 1)
    out, mask = _core.dropout_forward(x, p, 1234567, None, None)
    ref_out, ref_mask = _core.dropout_forward(x, p, 1234567, None, "ref")
    assert mask.dtype == np.uint8 and mask.shape == x.shape and out.dtype == np.float32
    np.testing.assert_array_equal(mask, ref_mask)
    np.testing.assert_array_equal(out, ref_out)
    scale = np.float32(1) / np.float32(1 - p) if p < 1 else np.float32(0)
    np.testing.assert_array_equal(out, x * np.where(mask == 1, scale, np.float32(0)))
    d = _core.dropout_backward(g, mask, p, None, False, None)
    np.testing.assert_array_equal(d, _core.dropout_backward(g, mask, p, None, False, "ref"))
    np.testing.assert_array_equal(d, g * np.where(mask == 1, scale, np.float32(0)))
    acc = np.ones(n, np.float32)
    assert _core.dropout_backward(g, mask, p, acc, True, None) is acc
    np.testing.assert_allclose(acc, d + 1, rtol=2.5e-7, atol=1e-7)  # FMA may fuse the add


def test_p_zero_and_one():
    x = np.array([1.0, -2.0, np.nan, np.inf, 0.5], np.float32)
    out, mask = tn.ops.dropout_forward(x, 0.0, 99)
    np.testing.assert_array_equal(out, x)
    assert mask.all()
    out, mask = tn.ops.dropout_forward(x, 1.0, 99)
    assert not mask.any()
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(out, x * 0)  # torch: input * 0, so NaN and inf give NaN


@pytest.mark.parametrize("p", [0.1, 0.5, 0.9])
def test_mask_statistics(p):
    n = 1 << 20
    keep = tn.ops.dropout_forward(np.ones(n, np.float32), p, 20240607)[1].astype(np.float64)
    sigma = np.sqrt(p * (1 - p) / n)
    assert abs(keep.mean() - (1 - p)) < 5 * sigma
    # neighbours, elements 2^k apart and masks of consecutive seeds are uncorrelated
    for a, b in [(keep[:-1], keep[1:]), (keep[:-64], keep[64:]), (keep[:-4096], keep[4096:]),
                 (keep, tn.ops.dropout_forward(np.ones(n, np.float32), p, 20240608)[1])]:
        assert abs(np.corrcoef(a, b)[0, 1]) < 5 / np.sqrt(n)
    # every 16-element block position (a SIMD lane) keeps at the same rate
    lanes = keep.reshape(-1, 16).mean(axis=0)
    assert np.all(np.abs(lanes - (1 - p)) < 5 * sigma * 4)


def test_determinism_manual_seed_and_threads():
    x = tn.tensor(data(300007))
    results = []
    for threads in (1, 2, 1):
        tn.set_num_threads(threads)
        tn.manual_seed(42)
        results.append((F.dropout(x, 0.3).numpy(), F.dropout(x, 0.3).numpy()))
    for r in results[1:]:
        np.testing.assert_array_equal(r[0], results[0][0])
        np.testing.assert_array_equal(r[1], results[0][1])
    assert not np.array_equal(results[0][0], results[0][1])  # a fresh draw per call


def test_eval_mode_and_module():
    torch = pytest.importorskip("torch")
    x = tn.tensor(data(50), requires_grad=True)
    m = tn.nn.Dropout(0.25)
    assert repr(m) == repr(torch.nn.Dropout(0.25)) == "Dropout(p=0.25, inplace=False)"
    assert m.training and m(x) is not x
    m.eval()
    assert m(x) is x
    assert F.dropout(x, 0.5, training=False) is x
    m.train()
    assert (m(x).detach().numpy() == 0).any()
    seq = tn.nn.Sequential(tn.nn.Linear(4, 4), tn.nn.Dropout(0.5)).eval()
    ones = tn.tensor(np.ones((2, 4), np.float32))
    np.testing.assert_array_equal(seq(ones).detach().numpy(), seq[0](ones).detach().numpy())


@pytest.mark.parametrize("p", [0.2, 0.7])
def test_gradient(p):
    x = data(40, 3) + 5  # no zeros: the kept elements are exactly the nonzero outputs
    tn.manual_seed(11)
    y = F.dropout(tn.tensor(x), p).numpy()
    scale = (y != 0) / np.float64(1 - p)

    def reseeded(a):
        tn.manual_seed(11)  # the same mask as above
        return F.dropout(a, p)

    gradcheck(reseeded, lambda a: a * scale, x, rtol=1e-5, atol=1e-6)


def test_matches_torch_arithmetic():
    torch = pytest.importorskip("torch")
    x = data(100000, 5)
    for p in (0.1, 1 / 3, 0.5):
        out, mask = tn.ops.dropout_forward(x, p, 7)
        # torch: noise = bernoulli(1 - p) / (1 - p) in float32, out = x * noise
        noise = torch.ones(1).div_(1 - p).item()
        kept = mask == 1
        np.testing.assert_array_equal(out[kept], x[kept] * np.float32(noise))
        assert (out[~kept] == 0).all()
    xt = torch.from_numpy(x)
    for p in (0.0, 1.0):
        np.testing.assert_array_equal(tn.ops.dropout_forward(x, p, 7)[0],
                                      torch.nn.functional.dropout(xt, p).numpy())


def test_bad_inputs():
    x = np.ones((2, 3), np.float32)
    t = tn.tensor(x)
    for p in (-0.1, 1.5):
        with pytest.raises(ValueError, match=f"has to be between 0 and 1, but got {p}"):
            F.dropout(t, p)
        with pytest.raises(ValueError, match="dropout probability"):
            tn.nn.Dropout(p)
    with pytest.raises(TypeError, match="p"):
        F.dropout(t, "0.5")
    with pytest.raises(TypeError, match="input"):
        F.dropout(x, 0.5)
    with pytest.raises(TypeError, match="float32"):
        F.dropout(tn.tensor(np.arange(3)), 0.5)
    with pytest.raises(ValueError, match="p has to be between 0 and 1"):
        tn.ops.dropout_forward(x, float("nan"), 1)
    with pytest.raises(TypeError, match="x"):
        tn.ops.dropout_forward(x.astype(np.float64), 0.5, 1)
    with pytest.raises(TypeError):
        tn.ops.dropout_forward(x, 0.5, -1)  # the seed is an unsigned 64-bit integer
    with pytest.raises(ValueError, match="out"):
        tn.ops.dropout_forward(x, 0.5, 1, out=np.ones(6, np.float32))
    mask = np.ones((2, 3), np.uint8)
    with pytest.raises(TypeError, match="mask must have dtype uint8"):
        tn.ops.dropout_backward(x, mask.astype(np.float32), 0.5)
    with pytest.raises(TypeError, match="mask"):
        tn.ops.dropout_backward(x, [[1, 1, 1], [1, 1, 1]], 0.5)
    with pytest.raises(ValueError, match=r"mask must have dout's shape \(2, 3\)"):
        tn.ops.dropout_backward(x, mask[:1], 0.5)
    with pytest.raises(TypeError, match="dout"):
        tn.ops.dropout_backward(x.astype(np.float64), mask, 0.5)
    with pytest.raises(ValueError, match="dinp"):
        tn.ops.dropout_backward(x, mask, 0.5, accumulate=True)
