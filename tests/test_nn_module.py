"""turbonn.nn.Module machinery: registration and dotted names, state_dict round trip, strict and
non-strict loading (failing loads leave parameters untouched), train/eval, zero_grad and repr."""
from __future__ import annotations

import numpy as np
import pytest

import turbonn as tn
from turbonn import nn


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(3, 5)
        self.act = nn.ReLU()
        self.fc2 = nn.Linear(5, 2, bias=False)
        self.register_buffer("running", tn.tensor(np.arange(2, dtype=np.float32)))
        self.register_buffer("scratch", tn.tensor(np.zeros(3, np.float32)), persistent=False)
        self.scale = nn.Parameter(np.ones(1, np.float32))

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x))) * self.scale


def make_net():
    tn.manual_seed(1)
    return nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Sequential(Block(), nn.Tanh()))


def test_parameter_is_tensor_leaf_requiring_grad():
    p = nn.Parameter(np.zeros((2, 3)))
    assert isinstance(p, nn.Parameter) and isinstance(p, tn.Tensor)
    assert p.requires_grad and p.is_leaf and p.dtype == np.float32
    assert repr(p).startswith("Parameter containing:\ntensor(")
    assert not isinstance(nn.Linear(2, 2)(tn.tensor(np.ones((1, 2)))), nn.Parameter)


def test_registration_and_dotted_names():
    net = make_net()
    names = [n for n, _ in net.named_parameters()]
    assert names == ["0.weight", "0.bias", "2.0.scale", "2.0.fc1.weight", "2.0.fc1.bias",
                     "2.0.fc2.weight"]
    assert [p.shape for p in net.parameters()] == [(3, 4), (3,), (1,), (5, 3), (5,), (2, 5)]
    assert all(isinstance(p, nn.Parameter) for p in net.parameters())
    assert [n for n, _ in net.named_buffers()] == ["2.0.running", "2.0.scratch"]
    assert [n for n, _ in net.named_children()] == ["0", "1", "2"]
    assert len(list(net.children())) == 3
    assert [n for n, _ in net.named_modules()] == ["", "0", "1", "2", "2.0", "2.0.fc1",
                                                   "2.0.act", "2.0.fc2", "2.1"]
    assert len(list(net.modules())) == 9
    blk = net[2][0]
    assert blk.fc2.bias is None and "bias" in blk.fc2._parameters
    assert [n for n, _ in blk.named_parameters(recurse=False)] == ["scale"]


def test_shared_parameter_listed_once_and_reassignment():
    m = nn.Module()
    m.a = nn.Linear(2, 2)
    m.b = m.a
    assert len(list(m.parameters())) == 2
    m.a = None
    assert m.a is None and [n for n, _ in m.named_parameters()] == ["b.weight", "b.bias"]
    with pytest.raises(TypeError, match="cannot assign"):
        m.b.weight = np.zeros((2, 2))
    m.b.weight = nn.Parameter(np.zeros((2, 2)))
    assert np.all(m.b.weight.data == 0)
    del m.b
    assert list(m.parameters()) == []
    with pytest.raises(AttributeError, match="has no attribute 'b'"):
        m.b


def test_setattr_before_init_raises():
    class Bad(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(np.zeros(2))

    with pytest.raises(AttributeError, match="before Module.__init__"):
        Bad()


def test_state_dict_round_trip_and_copies():
    net, other = make_net(), make_net()
    sd = net.state_dict()
    assert list(sd) == ["0.weight", "0.bias", "2.0.scale", "2.0.running", "2.0.fc1.weight",
                        "2.0.fc1.bias", "2.0.fc2.weight"]
    assert all(isinstance(v, np.ndarray) for v in sd.values())
    sd["0.weight"][...] = 7  # a copy: the model is unaffected
    assert not np.any(net[0].weight.data == 7)
    for p in other.parameters():
        p.data[...] = 0
    held = other[0].weight  # e.g. an optimizer's reference
    before = held.data
    res = other.load_state_dict(net.state_dict())
    assert res.missing_keys == [] and res.unexpected_keys == []
    assert held is other[0].weight and held.data is before  # copied in place
    for (n1, a), (n2, b) in zip(net.state_dict().items(), other.state_dict().items()):
        assert n1 == n2
        np.testing.assert_array_equal(a, b)
    x = tn.tensor(np.random.default_rng(0).standard_normal((3, 4)))
    np.testing.assert_array_equal(net(x).detach().numpy(), other(x).detach().numpy())
    kv = net.state_dict(keep_vars=True)
    assert kv["0.weight"] is net[0].weight


def test_load_accepts_tensors_and_float64():
    net = make_net()
    sd = {k: tn.tensor(v + 1) for k, v in net.state_dict().items()}
    sd["0.bias"] = np.asarray(sd["0.bias"].numpy(), np.float64)
    expect = {k: np.asarray(v.numpy() if isinstance(v, tn.Tensor) else v, np.float32)
              for k, v in sd.items()}
    net.load_state_dict(sd)
    for k, v in net.state_dict().items():
        assert v.dtype == np.float32
        np.testing.assert_array_equal(v, expect[k])


def test_strict_errors_list_everything_and_assign_nothing():
    net = make_net()
    orig = {k: v.copy() for k, v in net.state_dict().items()}
    sd = {k: v + 1 for k, v in orig.items()}
    del sd["0.bias"]
    sd["extra.weight"] = np.zeros(3, np.float32)
    sd["2.0.fc1.weight"] = np.zeros((3, 5), np.float32)
    with pytest.raises(RuntimeError) as ei:
        net.load_state_dict(sd)
    msg = str(ei.value)
    assert msg.startswith("Error(s) in loading state_dict for Sequential:\n\t")
    assert 'Missing key(s) in state_dict: "0.bias".' in msg
    assert 'Unexpected key(s) in state_dict: "extra.weight".' in msg
    assert ("size mismatch for 2.0.fc1.weight: copying a param with shape (3, 5) from "
            "checkpoint, the shape in current model is (5, 3).") in msg
    assert msg.index("Missing") < msg.index("Unexpected") < msg.index("size mismatch")
    for k, v in net.state_dict().items():  # nothing was assigned, not even the valid keys
        np.testing.assert_array_equal(v, orig[k], err_msg=k)


def test_non_strict_returns_keys_but_size_mismatch_still_raises():
    net = make_net()
    sd = {k: v + 1 for k, v in net.state_dict().items()}
    del sd["0.bias"]
    sd["junk"] = np.zeros(1, np.float32)
    res = net.load_state_dict(sd, strict=False)
    assert res == (["0.bias"], ["junk"])
    assert res.missing_keys == ["0.bias"] and res.unexpected_keys == ["junk"]
    np.testing.assert_array_equal(net[0].weight.data, sd["0.weight"])
    before = net.state_dict()
    sd["0.weight"] = np.zeros((4, 3), np.float32)
    with pytest.raises(RuntimeError, match="size mismatch for 0.weight"):
        net.load_state_dict(sd, strict=False)
    np.testing.assert_array_equal(net[0].weight.data, before["0.weight"])
    assert repr(net.load_state_dict(net.state_dict())) == "<All keys matched successfully>"
    with pytest.raises(TypeError, match="dict-like"):
        net.load_state_dict([1, 2])


def test_train_eval_propagate():
    net = make_net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net[2].train()
    assert not net.training and all(m.training for m in net[2].modules())
    net.train(True)
    assert all(m.training for m in net.modules())
    with pytest.raises(ValueError):
        net.train("yes")


def test_zero_grad():
    net = make_net()
    x = tn.tensor(np.ones((2, 4), np.float32))
    net(x).sum().backward()
    params = list(net.parameters())
    assert all(p.grad is not None for p in params)
    net.zero_grad(set_to_none=False)
    assert all(p.grad is not None and not p.grad.numpy().any() for p in params)
    net.zero_grad()
    assert all(p.grad is None for p in params)


def test_call_forward_and_missing_forward():
    with pytest.raises(NotImplementedError, match="missing the required \"forward\""):
        nn.Module()(1)
    assert nn.Identity(3, k=1)(5) == 5


def test_repr_text():
    net = nn.Sequential(nn.Linear(4, 3), nn.ReLU())
    assert repr(net) == ("Sequential(\n  (0): Linear(in_features=4, out_features=3, bias=True)\n"
                         "  (1): ReLU()\n)")
    nested = nn.Sequential(nn.Flatten(), nn.Sequential(nn.Softmax(dim=1)), nn.MSELoss())
    assert repr(nested) == ("Sequential(\n  (0): Flatten(start_dim=1, end_dim=-1)\n"
                            "  (1): Sequential(\n    (0): Softmax(dim=1)\n  )\n"
                            "  (2): MSELoss()\n)")
    assert repr(nn.Linear(2, 1, bias=False)) == "Linear(in_features=2, out_features=1, bias=False)"
    assert repr(nn.ReLU(inplace=True)) == "ReLU(inplace=True)"


def test_sequential_container():
    a, b, c = nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1)
    seq = nn.Sequential(a, b, c)
    assert len(seq) == 3 and seq[0] is a and seq[-1] is c and list(seq) == [a, b, c]
    sub = seq[1:]
    assert isinstance(sub, nn.Sequential) and list(sub) == [b, c]
    with pytest.raises(IndexError):
        seq[3]
    del seq[1]
    assert [n for n, _ in seq.named_children()] == ["0", "1"] and seq[1] is c
    seq.append(nn.Sigmoid())
    assert len(seq) == 3
    from collections import OrderedDict
    named = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.Tanh())]))
    assert [n for n, _ in named.named_parameters()] == ["fc.weight", "fc.bias"]
    ml = nn.ModuleList([nn.Linear(1, 1) for _ in range(3)])
    assert len(ml) == 3 and [n for n, _ in ml.named_parameters()][-1] == "2.bias"


def test_manual_seed_determinism():
    tn.manual_seed(123)
    a = nn.Sequential(nn.Linear(10, 8), nn.Linear(8, 2)).state_dict()
    tn.manual_seed(123)
    b = nn.Sequential(nn.Linear(10, 8), nn.Linear(8, 2)).state_dict()
    c = nn.Sequential(nn.Linear(10, 8), nn.Linear(8, 2)).state_dict()
    for k in a:
        assert a[k].tobytes() == b[k].tobytes()
    assert any(a[k].tobytes() != c[k].tobytes() for k in a)
    assert tn.default_generator() is tn.random.default_generator()
    with pytest.raises(TypeError):
        tn.manual_seed(1.5)
