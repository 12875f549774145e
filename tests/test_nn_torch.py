"""Parity of turbonn.nn with torch.nn: torch state_dicts (as NumPy) load 1:1 and give the same
outputs and parameter gradients; repr, init formulas and clip_grad_norm_ against torch.
Skipped when torch is not installed."""
from __future__ import annotations

import math

import numpy as np
import pytest

import turbonn as tn
from turbonn import nn

torch = pytest.importorskip("torch")


def rand(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def mlp(lib, act: str):
    return lib.nn.Sequential(lib.nn.Linear(784, 128), getattr(lib.nn, act)(),
                             lib.nn.Linear(128, 10))


def to_numpy(sd):
    return {k: v.detach().numpy() for k, v in sd.items()}


def load_pair(act: str, seed: int = 0):
    torch.manual_seed(seed)
    tm = mlp(torch, act)
    nm = mlp(tn, act)
    res = nm.load_state_dict(to_numpy(tm.state_dict()))
    assert res.missing_keys == [] and res.unexpected_keys == []
    return tm, nm


@pytest.mark.parametrize("act", ["ReLU", "Sigmoid", "Tanh"])
@pytest.mark.parametrize("loss", ["mse", "sum"])
def test_mlp_outputs_and_gradients_match_torch(act, loss):
    tm, nm = load_pair(act)
    assert [n for n, _ in nm.named_parameters()] == [n for n, _ in tm.named_parameters()]
    assert repr(nm) == repr(tm)
    x = rand((32, 784), 1)
    y = rand((32, 10), 2)
    out_t, out_n = tm(torch.from_numpy(x)), nm(tn.tensor(x))
    np.testing.assert_allclose(out_n.detach().numpy(), out_t.detach().numpy(), rtol=1e-5,
                               atol=1e-5)
    if loss == "mse":
        lt = torch.nn.MSELoss()(out_t, torch.from_numpy(y))
        ln = nn.MSELoss()(out_n, tn.tensor(y))
    else:
        lt, ln = out_t.sum(), out_n.sum()
    np.testing.assert_allclose(ln.item(), lt.item(), rtol=1e-5)
    lt.backward()
    ln.backward()
    tgrads = {k: p.grad.numpy() for k, p in tm.named_parameters()}
    for k, p in nm.named_parameters():
        g = tgrads[k]
        np.testing.assert_allclose(p.grad.numpy(), g, rtol=1e-4,
                                   atol=1e-4 * float(np.abs(g).max()), err_msg=k)


def test_eval_mode_and_state_dict_back_to_torch():
    tm, nm = load_pair("ReLU", seed=3)
    nm.eval()
    tm2 = mlp(torch, "ReLU")
    tm2.load_state_dict({k: torch.from_numpy(v) for k, v in nm.state_dict().items()})
    x = rand((4, 784), 5)
    np.testing.assert_array_equal(tm2(torch.from_numpy(x)).detach().numpy(),
                                  tm(torch.from_numpy(x)).detach().numpy())


def test_softmax_logsoftmax_flatten_match_torch():
    x = rand((3, 2, 5), 6) * 4
    for dim in (0, 1, 2, -1):
        for tmod, nmod in ((torch.nn.Softmax(dim), nn.Softmax(dim)),
                           (torch.nn.LogSoftmax(dim), nn.LogSoftmax(dim))):
            xt = torch.from_numpy(x.astype(np.float64)).requires_grad_()
            xn = tn.tensor(x, requires_grad=True)
            yt, yn = tmod(xt), nmod(xn)
            np.testing.assert_allclose(yn.detach().numpy(), yt.detach().numpy(), rtol=1e-5,
                                       atol=1e-6)
            g = rand(x.shape, 7)
            yt.backward(torch.from_numpy(g.astype(np.float64)))
            yn.backward(g)
            np.testing.assert_allclose(xn.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-5)
            assert repr(nmod) == repr(tmod)
    for args in ((), (0, -1), (1, 2)):
        assert nn.Flatten(*args)(tn.tensor(x)).shape == tuple(torch.nn.Flatten(*args)(
            torch.from_numpy(x)).shape)
        assert repr(nn.Flatten(*args)) == repr(torch.nn.Flatten(*args))


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_mse_loss_matches_torch(reduction):
    x, y = rand((6, 4), 8), rand((6, 4), 9)
    xt = torch.from_numpy(x).requires_grad_()
    xn = tn.tensor(x, requires_grad=True)
    lt = torch.nn.functional.mse_loss(xt, torch.from_numpy(y), reduction=reduction)
    ln = tn.functional.mse_loss(xn, tn.tensor(y), reduction=reduction)
    np.testing.assert_allclose(ln.detach().numpy(), lt.detach().numpy(), rtol=1e-5)
    lt.sum().backward()
    ln.sum().backward()
    np.testing.assert_allclose(xn.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-7)


def test_load_errors_match_torch_wording():
    tm, nm = load_pair("ReLU")
    sd = to_numpy(tm.state_dict())
    del sd["0.bias"]
    sd["junk"] = np.zeros(1, np.float32)
    sd["2.weight"] = np.zeros((128, 10), np.float32)
    with pytest.raises(RuntimeError) as tn_err:
        nm.load_state_dict(sd)
    with pytest.raises(RuntimeError) as t_err:
        tm.load_state_dict({k: torch.from_numpy(v) for k, v in sd.items()})
    # Same lines, only torch.Size([a, b]) spelled as (a, b).
    expected = str(t_err.value).replace("torch.Size([", "(").replace("])", ")")
    assert str(tn_err.value) == expected
    sd = to_numpy(tm.state_dict())
    sd["junk"] = np.zeros(1, np.float32)
    r_t = tm.load_state_dict({k: torch.from_numpy(v) for k, v in sd.items()}, strict=False)
    r_n = nm.load_state_dict(sd, strict=False)
    assert tuple(r_n) == tuple(r_t) and repr(r_n) == repr(r_t)


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf])
@pytest.mark.parametrize("max_norm", [0.1, 1e6])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    grads = [rand((8, 5), 10), rand((5,), 11), rand((3, 2, 2), 12)]
    tps = [torch.zeros(g.shape, requires_grad=True) for g in grads]
    nps = [nn.Parameter(np.zeros(g.shape, np.float32)) for g in grads]
    for tp, np_, g in zip(tps, nps, grads):
        tp.grad = torch.from_numpy(g.copy())
        np_.grad = tn.tensor(g)
    tot_t = torch.nn.utils.clip_grad_norm_(tps, max_norm, norm_type=norm_type)
    tot_n = nn.utils.clip_grad_norm_(nps, max_norm, norm_type=norm_type)
    assert tot_n.item() == pytest.approx(tot_t.item(), rel=1e-6)
    for tp, np_ in zip(tps, nps):
        np.testing.assert_allclose(np_.grad.numpy(), tp.grad.numpy(), rtol=1e-6, atol=1e-8)


def test_clip_grad_value_matches_torch():
    g = rand((7, 3), 13)
    tp = torch.zeros(g.shape, requires_grad=True)
    tp.grad = torch.from_numpy(g.copy())
    q = nn.Parameter(np.zeros(g.shape, np.float32))
    q.grad = tn.tensor(g)
    torch.nn.utils.clip_grad_value_([tp], 0.3)
    nn.utils.clip_grad_value_([q], 0.3)
    np.testing.assert_array_equal(q.grad.numpy(), tp.grad.numpy())


@pytest.mark.parametrize("shape", [(300, 200), (32, 16, 3, 3)])
def test_init_statistics_match_torch(shape):
    """Same distribution family and scale as torch (values differ: different generators)."""
    cases = [
        ("xavier_uniform_", {"gain": 1.5}), ("xavier_normal_", {}),
        ("kaiming_uniform_", {"a": math.sqrt(5)}),
        ("kaiming_normal_", {"mode": "fan_out", "nonlinearity": "relu"}),
    ]
    torch.manual_seed(0)
    tn.manual_seed(0)
    for name, kw in cases:
        t = getattr(torch.nn.init, name)(torch.empty(shape), **kw).numpy()
        n = getattr(nn.init, name)(nn.Parameter(np.zeros(shape, np.float32)), **kw).data
        assert n.std() == pytest.approx(float(t.std()), rel=0.05), name
        if "uniform" in name:
            assert np.abs(n).max() <= np.abs(t).max() * 1.01, name
    for nl in ("linear", "tanh", "relu", "selu", "sigmoid"):
        assert nn.init.calculate_gain(nl) == pytest.approx(torch.nn.init.calculate_gain(nl))
    assert nn.init.calculate_gain("leaky_relu", 0.3) == pytest.approx(
        torch.nn.init.calculate_gain("leaky_relu", 0.3))


def test_linear_default_init_scale_matches_torch():
    torch.manual_seed(0)
    tn.manual_seed(0)
    tl, nl = torch.nn.Linear(500, 300), nn.Linear(500, 300)
    for name in ("weight", "bias"):
        t, n = getattr(tl, name).detach().numpy(), getattr(nl, name).data
        bound = 1 / math.sqrt(500)
        assert np.abs(n).max() <= bound and np.abs(t).max() <= bound
        assert n.std() == pytest.approx(float(t.std()), rel=0.1)
