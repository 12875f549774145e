"""Training trajectories against torch: the same MLP (torch's initial weights copied in), the same
batches and the same optimizer settings must stay within 1e-3 of torch's parameters over 30
steps. Covers every optimizer through whole models (tests/test_optim.py checks single updates)
and the losses a first course trains with. Skipped when torch is not installed."""
from __future__ import annotations

import numpy as np
import pytest

import turbonn as tn

torch = pytest.importorskip("torch")

STEPS = 30

OPTIMIZERS = {
    "sgd": ("SGD", dict(lr=0.05)),
    "sgd_nesterov": ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3)),
    "adam": ("Adam", dict(lr=1e-2)),
    "adam_amsgrad": ("Adam", dict(lr=1e-2, amsgrad=True, weight_decay=1e-3)),
    "adamw": ("AdamW", dict(lr=1e-2, weight_decay=0.05)),
    "adagrad": ("Adagrad", dict(lr=0.05, lr_decay=1e-3)),
    "rmsprop": ("RMSprop", dict(lr=1e-3, momentum=0.5, centered=True)),
    "adadelta": ("Adadelta", dict(lr=1.0)),
}


def _model(lib, n_in, hidden, n_out, act):
    return lib.nn.Sequential(lib.nn.Linear(n_in, hidden), getattr(lib.nn, act)(),
                             lib.nn.Linear(hidden, hidden), getattr(lib.nn, act)(),
                             lib.nn.Linear(hidden, n_out))


def _pair(n_in, hidden, n_out, act, seed=0):
    torch.manual_seed(seed)
    tm = _model(torch, n_in, hidden, n_out, act)
    nm = _model(tn, n_in, hidden, n_out, act)
    nm.load_state_dict({k: v.detach().numpy().copy() for k, v in tm.state_dict().items()})
    return tm, nm


def _batches(n_in, n_out, kind, seed=1, batch=16):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(STEPS):
        x = rng.standard_normal((batch, n_in)).astype(np.float32)
        # Targets are functions of x, so there is something to learn.
        if kind == "regression":
            y = np.tanh(x[:, :n_out] + x[:, n_out:2 * n_out])
        elif kind == "classes":
            y = np.argmax(x[:, :n_out], axis=1).astype(np.int64)
        else:  # binary targets for single logits
            y = (x[:, :n_out] > 0).astype(np.float32)
        out.append((x, y))
    return out


def _train(lib, model, opt_name, kwargs, loss_fn, batches):
    opt = getattr(lib.optim, opt_name)(model.parameters(), **kwargs)
    to = torch.from_numpy if lib is torch else tn.tensor
    losses = []
    for x, y in batches:
        opt.zero_grad()
        loss = loss_fn(model(to(x)), to(y))
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses


def _assert_same_trajectory(tm, nm, lt, ln):
    np.testing.assert_allclose(ln, lt, rtol=1e-3, atol=1e-4)
    tparams = dict(tm.named_parameters())
    for name, p in nm.named_parameters():
        np.testing.assert_allclose(p.detach().numpy(), tparams[name].detach().numpy(),
                                   rtol=1e-3, atol=1e-3, err_msg=name)


@pytest.mark.parametrize("opt", sorted(OPTIMIZERS))
def test_mse_regression_trajectory_matches_torch(opt):
    name, kwargs = OPTIMIZERS[opt]
    tm, nm = _pair(12, 24, 3, "Tanh")
    batches = _batches(12, 3, "regression")
    lt = _train(torch, tm, name, kwargs, torch.nn.MSELoss(), batches)
    ln = _train(tn, nm, name, kwargs, tn.nn.MSELoss(), batches)
    _assert_same_trajectory(tm, nm, lt, ln)
    assert np.mean(lt[-5:]) < np.mean(lt[:5])  # it trained


@pytest.mark.parametrize("opt", ["sgd_nesterov", "adam", "adamw", "rmsprop"])
def test_cross_entropy_classifier_trajectory_matches_torch(opt):
    name, kwargs = OPTIMIZERS[opt]
    tm, nm = _pair(10, 32, 4, "ReLU", seed=3)
    batches = _batches(10, 4, "classes", seed=4)
    lt = _train(torch, tm, name, kwargs, torch.nn.CrossEntropyLoss(label_smoothing=0.1),
                batches)
    ln = _train(tn, nm, name, kwargs, tn.nn.CrossEntropyLoss(label_smoothing=0.1), batches)
    _assert_same_trajectory(tm, nm, lt, ln)
    assert np.mean(lt[-5:]) < np.mean(lt[:5])


@pytest.mark.parametrize("opt", ["sgd", "adam", "adagrad", "adadelta"])
def test_bce_with_logits_trajectory_matches_torch(opt):
    name, kwargs = OPTIMIZERS[opt]
    tm, nm = _pair(8, 16, 2, "Sigmoid", seed=5)
    batches = _batches(8, 2, "binary", seed=6)
    pw = np.array([2.0, 0.5], np.float32)
    lt = _train(torch, tm, name, kwargs, torch.nn.BCEWithLogitsLoss(pos_weight=torch.tensor(pw)),
                batches)
    ln = _train(tn, nm, name, kwargs, tn.nn.BCEWithLogitsLoss(pos_weight=tn.tensor(pw)),
                batches)
    _assert_same_trajectory(tm, nm, lt, ln)


def test_bce_on_sigmoid_outputs_trajectory_matches_torch():
    tm, nm = _pair(8, 16, 1, "Tanh", seed=7)
    tm.append(torch.nn.Sigmoid())
    nm = tn.nn.Sequential(*list(nm), tn.nn.Sigmoid())
    batches = _batches(8, 1, "binary", seed=8)
    lt = _train(torch, tm, "Adam", dict(lr=1e-2), torch.nn.BCELoss(), batches)
    ln = _train(tn, nm, "Adam", dict(lr=1e-2), tn.nn.BCELoss(), batches)
    _assert_same_trajectory(tm, nm, lt, ln)
