"""Loading state never half-applies: Module.load_state_dict and Optimizer.load_state_dict given a
bad dict raise and leave every parameter, buffer, hyperparameter and optimizer state as it was
(the next training step is bit-identical to one that never saw the bad dict); aliasing sources
(a swap of two parameters) load as their values before the load."""
from __future__ import annotations

import copy

import numpy as np
import pytest

import turbonn as tn
from turbonn import nn, optim


def make_model(seed=0):
    tn.manual_seed(seed)
    return nn.Sequential(nn.Linear(5, 7), nn.LayerNorm(7), nn.ReLU(), nn.Linear(7, 3))


def snapshot(model):
    return {k: v.copy() for k, v in model.state_dict().items()}


def assert_same(a: dict, b: dict):
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def bad_module_dicts(good):
    """(description, dict, expected exception) for dicts whose problem is found at different
    points of the check: the last key, the first key, a dtype, a non-array."""
    keys = list(good)
    out = []
    d = dict(good); d[keys[-1]] = np.zeros((9, 9), np.float32)
    out.append(("last entry wrong shape", d, RuntimeError))
    d = dict(good); d[keys[0]] = np.zeros((1,), np.float32)
    out.append(("first entry wrong shape", d, RuntimeError))
    d = dict(good); d[keys[1]] = good[keys[1]].astype(np.complex64)
    out.append(("complex entry", d, (RuntimeError, TypeError)))
    d = dict(good); d[keys[2]] = "not an array"
    out.append(("string entry", d, TypeError))
    d = dict(good); del d[keys[-1]]
    out.append(("missing key", d, RuntimeError))
    d = dict(good); d["extra.weight"] = np.zeros(3, np.float32)
    out.append(("unexpected key", d, RuntimeError))
    d = {k: v + 1 for k, v in good.items()}; d[keys[-2]] = np.zeros((2, 2, 2), np.float32)
    out.append(("all new values but one bad", d, RuntimeError))
    return out


@pytest.mark.parametrize("case", range(7))
def test_module_load_state_dict_never_half_applies(case):
    model = make_model()
    before = snapshot(model)
    new = {k: v * 2 + 1 for k, v in make_model(seed=1).state_dict().items()}
    desc, bad, exc = bad_module_dicts(new)[case]
    with pytest.raises(exc):
        model.load_state_dict(bad)
    assert_same(snapshot(model), before)


def test_module_load_swapped_aliases():
    """Loading a's values into b and b's into a from the model's own tensors swaps them."""
    model = nn.Linear(4, 4)
    w, b = model.weight.data.copy(), model.bias.data.copy()
    live = model.state_dict(keep_vars=True)
    other = nn.Linear(4, 4)
    # two parameters of the same shape reading each other: weight <- weight.T view of itself
    res = model.load_state_dict({"weight": live["weight"].data.T, "bias": live["bias"]})
    assert not res.missing_keys and not res.unexpected_keys
    np.testing.assert_array_equal(model.weight.data, w.T)
    np.testing.assert_array_equal(model.bias.data, b)
    # a true swap between two modules' parameters of one Sequential
    seq = nn.Sequential(nn.Linear(3, 3), nn.Linear(3, 3))
    w0, w1 = seq[0].weight.data.copy(), seq[1].weight.data.copy()
    sd = seq.state_dict(keep_vars=True)
    sd["0.weight"], sd["1.weight"] = sd["1.weight"], sd["0.weight"]
    seq.load_state_dict(sd)
    np.testing.assert_array_equal(seq[0].weight.data, w1)
    np.testing.assert_array_equal(seq[1].weight.data, w0)
    del other


def trained_optimizer(kind, **kw):
    model = make_model()
    opt = kind(list(model.parameters())[:2], **kw)
    opt.add_param_group({"params": list(model.parameters())[2:], "lr": 0.05})
    x = tn.tensor(np.random.default_rng(0).standard_normal((6, 5)).astype(np.float32))
    for _ in range(2):
        opt.zero_grad()
        model(x).sum().backward()
        opt.step()
    return model, opt, x


def bad_optimizer_dicts(good):
    out = []
    d = copy.deepcopy(good); d["state"][3]["exp_avg"] = np.zeros(11, np.float32)
    out.append(("state shape in the last parameter", d, ValueError))
    d = copy.deepcopy(good); d["param_groups"][1]["lr"] = "fast"
    out.append(("string lr in group 1", d, ValueError))
    d = copy.deepcopy(good); d["param_groups"][1]["betas"] = (0.9,)
    out.append(("betas of length 1", d, ValueError))
    d = copy.deepcopy(good); d["param_groups"][0]["lr"] = -1.0
    out.append(("negative lr", d, ValueError))
    d = copy.deepcopy(good); d["param_groups"] = d["param_groups"][:1]
    out.append(("one group missing", d, ValueError))
    d = copy.deepcopy(good); d["param_groups"][1]["params"] = d["param_groups"][1]["params"][:-1]
    out.append(("group 1 one parameter short", d, ValueError))
    d = copy.deepcopy(good); d["state"][99] = {"step": 1}
    out.append(("state for an unknown index", d, ValueError))
    d = copy.deepcopy(good); d["state"][2] = [1, 2]
    out.append(("state entry not a dict", d, ValueError))
    d = copy.deepcopy(good); del d["param_groups"][0]["params"]
    out.append(("group without params", d, ValueError))
    d = copy.deepcopy(good); d["state"]["x"] = {}
    out.append(("non-integer index", d, ValueError))
    out.append(("not a dict", [1, 2], TypeError))
    return out


@pytest.mark.parametrize("case", range(11))
def test_optimizer_load_state_dict_never_half_applies(case):
    model, opt, x = trained_optimizer(optim.Adam, lr=0.01)
    _, ref_opt, _ = trained_optimizer(optim.Adam, lr=0.01)
    good = opt.state_dict()
    # every value of the good dict changed, so a partial load would show
    for s in good["state"].values():
        s["exp_avg"] = s["exp_avg"] + 1
    for g in good["param_groups"]:
        g["lr"] = 0.5
        g["betas"] = (0.5, 0.5)
    desc, bad, exc = bad_optimizer_dicts(good)[case]
    before = copy.deepcopy(opt.state_dict())
    with pytest.raises(exc):
        opt.load_state_dict(bad)
    after = opt.state_dict()
    assert [{k: v for k, v in g.items()} for g in after["param_groups"]] == before["param_groups"]
    for i, s in before["state"].items():
        for k, v in s.items():
            np.testing.assert_array_equal(after["state"][i][k], v, err_msg=f"{desc}: {i}.{k}")
    # and the next step is the one an untouched optimizer takes
    ref_model = make_model()
    for (p, q) in zip(model.parameters(), ref_model.parameters()):
        q.data[...] = p.data
    ref_opt_params = [q for g in ref_opt.param_groups for q in g["params"]]
    for p, q in zip([p for g in opt.param_groups for p in g["params"]], ref_opt_params):
        q.data[...] = p.data
        q.grad = tn.tensor(np.ones(p.shape, np.float32))
        p.grad = tn.tensor(np.ones(p.shape, np.float32))
    opt.step()
    ref_opt.step()
    for p, q in zip([p for g in opt.param_groups for p in g["params"]], ref_opt_params):
        np.testing.assert_array_equal(p.data, q.data)


def test_optimizer_round_trip_keeps_unknown_options_and_string_indices():
    model, opt, _ = trained_optimizer(optim.SGD, lr=0.1, momentum=0.9)
    sd = opt.state_dict()
    sd["param_groups"][0]["initial_lr"] = 0.1  # a scheduler's key: kept as is
    sd["state"] = {str(k): v for k, v in sd["state"].items()}  # keys read back from a file
    opt.load_state_dict(sd)
    assert opt.param_groups[0]["initial_lr"] == 0.1
    assert set(opt.state) == {p for g in opt.param_groups for p in g["params"]}
