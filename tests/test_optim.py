"""Optimizers: fused kernels vs the plain-loop reference on awkward sizes, update rules vs
torch.optim over 30 steps (same gradients fed to both), checkpoints, schedulers, bad inputs."""
from __future__ import annotations

import numpy as np
import pytest

import turbonn as tn
from turbonn import _core, optim

SIZES = [0, 1, 2, 17, 33, 65537, 300007]

# (class name, kwargs) — every option of every optimizer at least once.
CONFIGS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.1, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3, weight_decay=0.01)),
    ("SGD", dict(lr=0.05, momentum=0.8, nesterov=True, weight_decay=0.1, maximize=True)),
    ("Adam", dict(lr=0.01)),
    ("Adam", dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.05, amsgrad=True)),
    ("Adam", dict(lr=0.01, maximize=True)),
    ("AdamW", dict(lr=0.01)),
    ("AdamW", dict(lr=0.01, weight_decay=0.1, amsgrad=True)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.01, initial_accumulator_value=0.1)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, momentum=0.9, centered=True, weight_decay=0.01)),
    ("RMSprop", dict(lr=0.01, alpha=0.9, centered=True, maximize=True)),
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.8, weight_decay=0.05, maximize=True)),
]
IDS = [f"{name}-{'-'.join(f'{k}={v}' for k, v in kw.items()) or 'defaults'}" for name, kw in CONFIGS]


def run_steps(name, kwargs, p0, grads, variant=None):
    """Our optimizer over the given gradients; `variant='ref'` swaps in the reference kernels."""
    p = tn.tensor(p0.copy(), requires_grad=True)
    opt = getattr(optim, name)([p], **kwargs)
    original = {}
    if variant == "ref":
        for fn in ("sgd_step", "adam_step", "adagrad_step", "rmsprop_step", "adadelta_step"):
            original[fn] = getattr(_core, fn)
    try:
        if variant == "ref":
            import turbonn.optim.adadelta, turbonn.optim.adagrad, turbonn.optim.adam  # noqa
            import turbonn.optim.rmsprop, turbonn.optim.sgd  # noqa
            for fn, f in original.items():
                setattr(_core, fn, lambda *a, _f=f: _f(*a, "ref"))
        for g in grads:
            p.grad = tn.tensor(g)
            opt.step()
    finally:
        for fn, f in original.items():
            setattr(_core, fn, f)
    return p.data, opt


@pytest.mark.parametrize("name,kwargs", CONFIGS, ids=IDS)
@pytest.mark.parametrize("n", SIZES)
def test_fast_vs_reference(name, kwargs, n, isa):
    rng = np.random.default_rng(n)
    p0 = rng.standard_normal(n).astype(np.float32)
    grads = [rng.standard_normal(n).astype(np.float32) for _ in range(4)]
    fast, _ = run_steps(name, kwargs, p0, grads)
    ref, _ = run_steps(name, kwargs, p0, grads, "ref")
    np.testing.assert_allclose(fast, ref, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name,kwargs", CONFIGS, ids=IDS)
def test_matches_torch_over_30_steps(name, kwargs):
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    p0 = rng.standard_normal((13, 7)).astype(np.float32)
    grads = [rng.standard_normal((13, 7)).astype(np.float32) for _ in range(30)]
    ours, _ = run_steps(name, kwargs, p0, grads)
    tp = torch.tensor(p0.copy(), requires_grad=True)
    topt = getattr(torch.optim, name)([tp], **kwargs)
    for g in grads:
        tp.grad = torch.from_numpy(g.copy())
        topt.step()
    np.testing.assert_allclose(ours, tp.detach().numpy(), rtol=1e-4, atol=1e-5)


def test_trains_a_model_like_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(3)
    x = rng.standard_normal((32, 5)).astype(np.float32)
    y = rng.standard_normal((32, 1)).astype(np.float32)
    w0 = rng.standard_normal((5, 1)).astype(np.float32)
    w = tn.tensor(w0.copy(), requires_grad=True)
    tw = torch.tensor(w0.copy(), requires_grad=True)
    opt, topt = optim.Adam([w], lr=0.05), torch.optim.Adam([tw], lr=0.05)
    for _ in range(25):
        opt.zero_grad()
        (((tn.tensor(x) @ w) - tn.tensor(y)) ** 2).mean().backward()
        opt.step()
        topt.zero_grad()
        ((torch.from_numpy(x) @ tw - torch.from_numpy(y)) ** 2).mean().backward()
        topt.step()
    np.testing.assert_allclose(w.data, tw.detach().numpy(), rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("name,kwargs", CONFIGS[::3], ids=IDS[::3])
def test_checkpoint_resume_is_exact(name, kwargs):
    rng = np.random.default_rng(11)
    p0 = rng.standard_normal(50).astype(np.float32)
    grads = [rng.standard_normal(50).astype(np.float32) for _ in range(10)]
    straight, _ = run_steps(name, kwargs, p0, grads)
    first, opt = run_steps(name, kwargs, p0, grads[:5])
    saved = opt.state_dict()
    p = tn.tensor(first.copy(), requires_grad=True)
    opt2 = getattr(optim, name)([p], **kwargs)
    opt2.load_state_dict(saved)
    for g in grads[5:]:
        p.grad = tn.tensor(g)
        opt2.step()
    np.testing.assert_array_equal(p.data, straight)


def test_bad_state_dict_is_not_half_applied():
    p = tn.tensor(np.ones(4, np.float32), requires_grad=True)
    opt = optim.Adam([p], lr=0.1)
    p.grad = tn.tensor(np.ones(4, np.float32))
    opt.step()
    before = opt.state_dict()
    bad = opt.state_dict()
    bad["param_groups"][0]["lr"] = 123.0
    bad["state"][0]["exp_avg"] = np.zeros(5, np.float32)
    with pytest.raises(ValueError, match="shape"):
        opt.load_state_dict(bad)
    assert opt.param_groups[0]["lr"] == 0.1
    np.testing.assert_array_equal(opt.state[p]["exp_avg"], before["state"][0]["exp_avg"])


def test_zero_grad():
    p = tn.tensor(np.ones(3, np.float32), requires_grad=True)
    opt = optim.SGD([p], lr=0.1)
    p.grad = tn.tensor(np.ones(3, np.float32))
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(p.grad.data, 0)
    opt.zero_grad()
    assert p.grad is None


def test_param_groups_and_skipped_grads():
    a = tn.tensor(np.ones(2, np.float32), requires_grad=True)
    b = tn.tensor(np.ones(2, np.float32), requires_grad=True)
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 1.0}], lr=0.1)
    a.grad = tn.tensor(np.ones(2, np.float32))
    opt.step()  # b has no grad: untouched
    np.testing.assert_allclose(a.data, 0.9)
    np.testing.assert_array_equal(b.data, 1.0)
    assert opt.param_groups[1]["lr"] == 1.0


@pytest.mark.parametrize("make", [
    lambda p: optim.SGD(p, lr=-1), lambda p: optim.SGD(p, momentum=-0.1),
    lambda p: optim.SGD(p, nesterov=True), lambda p: optim.Adam(p, eps=-1),
    lambda p: optim.Adam(p, betas=(1.0, 0.9)), lambda p: optim.Adam(p, betas=(0.9, -0.1)),
    lambda p: optim.AdamW(p, weight_decay=-1), lambda p: optim.Adagrad(p, lr_decay=-1),
    lambda p: optim.RMSprop(p, alpha=-1), lambda p: optim.Adadelta(p, rho=1.5),
    lambda p: optim.SGD([], lr=0.1),
])
def test_invalid_hyperparameters(make):
    with pytest.raises(ValueError):
        make([tn.tensor(np.ones(2, np.float32), requires_grad=True)])


def test_kernel_argument_errors():
    p, g = np.ones(4, np.float32), np.ones(4, np.float32)
    m, v = np.zeros(4, np.float32), np.zeros(4, np.float32)
    args = (0.1, 0.9, 0.999, 1e-8, 0.0, 1, False, False, False)
    with pytest.raises(ValueError, match="param"):
        _core.adam_step(np.ones(8, np.float32)[::2], g, m, v, None, *args)
    with pytest.raises(TypeError, match="param"):
        _core.adam_step(p.astype(np.float64), g, m, v, None, *args)
    with pytest.raises(ValueError, match="grad"):
        _core.adam_step(p, np.ones(5, np.float32), m, v, None, *args)
    with pytest.raises(ValueError, match="exp_avg_sq"):
        _core.adam_step(p, g, m, np.zeros(3, np.float32), None, *args)
    with pytest.raises(ValueError, match="max_exp_avg_sq"):
        _core.adam_step(p, g, m, v, None, 0.1, 0.9, 0.999, 1e-8, 0.0, 1, True, False, False)
    with pytest.raises(ValueError, match="step"):
        _core.adam_step(p, g, m, v, None, 0.1, 0.9, 0.999, 1e-8, 0.0, 0, False, False, False)
    with pytest.raises(ValueError, match="exp_avg"):
        _core.adam_step(p, g, p, v, None, *args)  # state aliasing the parameter
    with pytest.raises(ValueError, match="momentum_buffer"):
        _core.sgd_step(p, g, None, 0.1, 0.9, 0.0, 0.0, False, False, True)
    with pytest.raises(ValueError, match="optimizer parameters"):
        view = tn.from_numpy(np.ones((4, 4), np.float32)[:, ::2])  # shares the strided memory
        view.requires_grad = True
        optim.SGD([view], lr=0.1)


def test_nan_gradient_propagates():
    p = tn.tensor(np.ones(3, np.float32), requires_grad=True)
    opt = optim.Adam([p], lr=0.1)
    p.grad = tn.tensor(np.array([np.nan, 1, 1], np.float32))
    opt.step()
    assert np.isnan(p.data[0]) and np.isfinite(p.data[1:]).all()


SCHEDULERS = [
    ("StepLR", dict(step_size=3, gamma=0.5)),
    ("ExponentialLR", dict(gamma=0.9)),
    ("CosineAnnealingLR", dict(T_max=10, eta_min=0.001)),
]


@pytest.mark.parametrize("name,kwargs", SCHEDULERS, ids=[s[0] for s in SCHEDULERS])
def test_schedulers_match_torch(name, kwargs):
    torch = pytest.importorskip("torch")
    opt = optim.SGD([tn.tensor(np.ones(1, np.float32), requires_grad=True)], lr=0.1)
    topt = torch.optim.SGD([torch.ones(1, requires_grad=True)], lr=0.1)
    s = getattr(optim.lr_scheduler, name)(opt, **kwargs)
    ts = getattr(torch.optim.lr_scheduler, name)(topt, **kwargs)
    for _ in range(10):
        opt.step()
        topt.step()
        s.step()
        ts.step()
        assert s.get_last_lr() == pytest.approx(ts.get_last_lr(), rel=1e-12)


def test_reduce_on_plateau_matches_torch():
    torch = pytest.importorskip("torch")
    opt = optim.SGD([tn.tensor(np.ones(1, np.float32), requires_grad=True)], lr=0.1)
    topt = torch.optim.SGD([torch.ones(1, requires_grad=True)], lr=0.1)
    s = optim.lr_scheduler.ReduceLROnPlateau(opt, patience=2, factor=0.5, cooldown=1)
    ts = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, patience=2, factor=0.5, cooldown=1)
    for metric in [1.0, 0.9, 0.95, 0.96, 0.97, 0.98, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0]:
        s.step(metric)
        ts.step(metric)
        assert opt.param_groups[0]["lr"] == pytest.approx(topt.param_groups[0]["lr"])
