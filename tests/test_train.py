"""turbonn.fit and friends: learning a separable problem, History keys, the accuracy metric,
EarlyStopping on scripted validation losses (stop epoch and restored weights), callbacks,
train/eval and no_grad discipline, verbosity, schedulers, plot_history and bad arguments."""
from __future__ import annotations

import sys

import numpy as np
import pytest

import turbonn as tn
from turbonn import nn
from turbonn.train import Callback, EarlyStopping, History, accuracy, evaluate, fit, plot_history

F = tn.functional


# Local losses built from Tensor ops, so these tests do not depend on nn's loss modules.
def cross_entropy(out, target):
    logp = F.log_softmax(out, dim=1)
    return -(logp[np.arange(out.shape[0]), target.numpy()]).mean()


def bce_with_logits(out, target):
    return (F.relu(out) - out * target + (1 + (-out.abs()).exp()).log()).mean()


def blobs(n=200, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    centers = np.array([[3, 0], [-3, 0], [0, 3]], np.float32)
    x = centers[y] + 0.5 * rng.standard_normal((n, 2)).astype(np.float32)
    return x, y


def mlp(n_in=2, n_out=3, seed=0):
    tn.manual_seed(seed)
    return nn.Sequential(nn.Linear(n_in, 16), nn.ReLU(), nn.Linear(16, n_out))


def params(model):
    return {k: v.copy() for k, v in model.state_dict().items()}


# ------------------------------------------------------------------------------------- fit


def test_fit_learns_separable_multiclass_and_fills_history():
    x, y = blobs()
    model = mlp()
    opt = tn.optim.Adam(model.parameters(), lr=0.05)
    h = fit(model, cross_entropy, opt, (x[:150], y[:150]), epochs=8,
            validation_data=(x[150:], y[150:]), metrics=["accuracy"], batch_size=16, verbose=0)
    assert isinstance(h, History)
    assert list(h) == ["loss", "accuracy", "val_loss", "val_accuracy"]
    assert all(len(h[k]) == 8 for k in h) and h.epochs == list(range(8)) == h.epoch
    assert len(h.epoch_times) == 8 and all(t > 0 for t in h.epoch_times)
    assert h["val_accuracy"][-1] >= 0.95 and h["accuracy"][-1] >= 0.95
    assert h["loss"][-1] < 0.5 * h["loss"][0]
    res = evaluate(model, cross_entropy, (x[150:], y[150:]), metrics="accuracy")
    assert res["accuracy"] == pytest.approx(h["val_accuracy"][-1])
    assert res["loss"] == pytest.approx(h["val_loss"][-1], rel=1e-5)


def test_fit_learns_single_logit_binary():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((200, 4)).astype(np.float32)
    y = (x @ np.array([1, -2, 0.5, 1]) > 0).astype(np.float32)[:, None]
    model = mlp(4, 1)
    opt = tn.optim.Adam(model.parameters(), lr=0.03)
    h = fit(model, bce_with_logits, opt, tn.data.DataLoader((x, y), batch_size=20, shuffle=True),
            epochs=15, metrics="accuracy", verbose=0)
    assert list(h) == ["loss", "accuracy"] and h["accuracy"][-1] >= 0.95


def test_fit_is_deterministic_under_manual_seed():
    x, y = blobs(90)
    finals = []
    for _ in range(2):
        model = mlp(seed=3)
        opt = tn.optim.Adam(model.parameters(), lr=0.01)
        fit(model, cross_entropy, opt, (x, y), epochs=2, batch_size=8, verbose=0)
        finals.append(params(model))
    assert all(np.array_equal(finals[0][k], finals[1][k]) for k in finals[0])


def test_metric_values_are_sample_weighted_means():
    x, y = blobs(10)
    model = mlp()
    opt = tn.optim.SGD(model.parameters(), lr=0.0)  # frozen: every batch sees the same model

    def first_logit(out, target):
        return float(out.numpy()[:, 0].mean())
    h = fit(model, cross_entropy, opt, (x, y), epochs=1, validation_data=(x, y),
            metrics=[first_logit, ("n", lambda o, t: len(t))], batch_size=4, verbose=0)
    with tn.no_grad():
        full = model(tn.tensor(x)).numpy()[:, 0].mean()
    assert h["first_logit"][0] == pytest.approx(full, rel=1e-5)
    assert h["val_first_logit"][0] == pytest.approx(full, rel=1e-5)
    assert h["n"] == [(4 * 4 + 4 * 4 + 2 * 2) / 10]


# -------------------------------------------------------------------------------- accuracy


def test_accuracy_rules():
    logits = np.array([[2.0, 1.0, 0.0], [0.0, 3.0, 1.0], [0.0, 0.0, 5.0], [1.0, 0.0, 0.0]])
    assert accuracy(logits, np.array([0, 1, 2, 2])) == 0.75
    assert accuracy(tn.tensor(logits), tn.tensor(np.eye(3)[[0, 1, 1, 0]])) == 0.75  # one-hot
    single = np.array([[-0.1], [0.2], [3.0], [-2.0]])  # logits: threshold 0, not 0.5
    assert accuracy(single, np.array([[0.0], [1.0], [1.0], [0.0]])) == 1.0
    assert accuracy(single[:, 0], np.array([1, 1, 1, 0])) == 0.75
    seq = np.zeros((2, 3, 5))
    seq[:, 1] = 1.0  # class dim 1, as in torch's cross entropy
    assert accuracy(seq, np.ones((2, 5), np.int64)) == 1.0
    with pytest.raises(ValueError, match="do not match"):
        accuracy(logits, np.array([0, 1]))


# --------------------------------------------------------------------------- early stopping


class ScriptedValLoss:
    """A loss whose value under no_grad (validation: one batch per epoch) follows a script,
    and which trains normally otherwise, so the weights move every epoch."""

    def __init__(self, script):
        self.script, self.calls = list(script), 0

    def __call__(self, out, target):
        if tn.is_grad_enabled():
            return cross_entropy(out, target)
        self.calls += 1
        return tn.tensor(self.script[self.calls - 1])


class Snapshots(Callback):
    def __init__(self):
        self.seen = []

    def on_epoch_end(self, epoch, logs=None):
        self.seen.append(params(self.model))


def run_scripted(script, es, epochs=None):
    x, y = blobs(40)
    model = mlp()
    snaps = Snapshots()
    h = fit(model, ScriptedValLoss(script), tn.optim.Adam(model.parameters(), lr=0.01), (x, y),
            epochs=epochs or len(script), batch_size=16,
            validation_data=tn.data.DataLoader((x, y), batch_size=len(x)),
            callbacks=[snaps, es], verbose=0)
    return model, h, snaps.seen


def same(a, b):
    return all(np.array_equal(a[k], b[k]) for k in a)


def test_early_stopping_stops_and_restores_best():
    es = EarlyStopping(patience=2, restore_best_weights=True)
    # dyadic values: exact in float32, so the comparisons below are exact
    model, h, snaps = run_scripted([1.0, 0.75, 0.5, 0.625, 0.5625, 0.875, 0.25], es)
    assert h["val_loss"] == [1.0, 0.75, 0.5, 0.625, 0.5625] and h.epochs == [0, 1, 2, 3, 4]
    assert (es.best, es.best_epoch, es.stopped_epoch) == (0.5, 2, 4)
    final = params(model)
    assert same(final, snaps[2]) and not same(final, snaps[4])


def test_early_stopping_without_restore_keeps_last_weights():
    es = EarlyStopping(patience=1)
    model, h, snaps = run_scripted([1.0, 0.5, 0.75, 0.25], es)
    assert len(h["loss"]) == 3 and es.stopped_epoch == 2
    assert same(params(model), snaps[2])


def test_early_stopping_min_delta_and_patience_zero():
    es = EarlyStopping(patience=2, min_delta=0.125)
    _, h, _ = run_scripted([1.0, 0.9375, 0.875, 0.8125, 0.5], es)
    assert len(h["loss"]) == 3 and es.best == 1.0  # 0.875 is not < 1.0 - 0.125
    es0 = EarlyStopping(patience=0)
    _, h0, _ = run_scripted([1.0, 0.5, 0.75, 0.25], es0)
    assert len(h0["loss"]) == 3


def test_early_stopping_restores_best_even_when_run_to_the_end():
    es = EarlyStopping(patience=10, restore_best_weights=True)
    model, h, snaps = run_scripted([1.0, 0.25, 0.5, 0.75], es)
    assert len(h["loss"]) == 4 and es.stopped_epoch is None
    assert same(params(model), snaps[1])


def test_early_stopping_max_mode_and_auto():
    assert EarlyStopping("val_accuracy").mode == "max"
    assert EarlyStopping("val_loss").mode == "min"
    assert EarlyStopping("accuracy", mode="min").mode == "min"
    es = EarlyStopping("score", mode="max", patience=1)
    seq = iter([0.5, 0.7, 0.6])
    assert [es.on_epoch_end(i, {"score": next(seq)}) for i in range(3)] == [False, False, True]
    assert es.best == 0.7 and es.best_epoch == 1


def test_early_stopping_errors():
    x, y = blobs(20)
    model = mlp()
    with pytest.raises(ValueError, match="val_loss.*validation_data"):
        fit(model, cross_entropy, tn.optim.SGD(model.parameters(), lr=0.1), (x, y),
            epochs=2, callbacks=[EarlyStopping()], verbose=0)
    for kw in (dict(patience=-1), dict(min_delta=-0.1), dict(mode="up"), dict(patience=1.5)):
        with pytest.raises(ValueError):
            EarlyStopping(**kw)


# ------------------------------------------------------------------------ callbacks, modes


class Recorder(nn.Module):
    """Wraps a model and records (training, grad enabled) at each forward."""

    def __init__(self, inner):
        super().__init__()
        self.inner, self.log = inner, []

    def forward(self, x):
        self.log.append((self.training, tn.is_grad_enabled()))
        return self.inner(x)


def test_train_eval_no_grad_and_mode_restored():
    x, y = blobs(12)
    for start_training in (True, False):
        model = Recorder(mlp())
        model.train(start_training)
        fit(model, cross_entropy, tn.optim.SGD(model.parameters(), lr=0.1), (x, y), epochs=2,
            validation_data=(x[:5], y[:5]), batch_size=6, verbose=0)
        # per epoch: two training batches, then one validation batch
        assert model.log == [(True, True), (True, True), (False, False)] * 2
        assert model.training is start_training


def test_callback_hooks_order_and_stop():
    events = []

    class Spy(Callback):
        def on_train_begin(self, logs=None):
            events.append("begin")

        def on_epoch_begin(self, epoch, logs=None):
            events.append(f"e{epoch}")

        def on_epoch_end(self, epoch, logs=None):
            events.append(f"end{epoch}:{sorted(logs)}")
            return epoch == 1

        def on_train_end(self, logs=None):
            events.append("done")
    x, y = blobs(10)
    model = mlp()
    spy = Spy()
    h = fit(model, cross_entropy, tn.optim.SGD(model.parameters(), lr=0.1), (x, y), epochs=5,
            callbacks=[spy], verbose=0)
    assert spy.model is model and len(h["loss"]) == 2
    assert events == ["begin", "e0", "end0:['loss']", "e1", "end1:['loss']", "done"]


def test_scheduler_steps_once_per_epoch():
    x, y = blobs(10)
    model = mlp()
    opt = tn.optim.SGD(model.parameters(), lr=0.1)
    sched = tn.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.5)
    fit(model, cross_entropy, opt, (x, y), epochs=3, verbose=0, scheduler=sched)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.1 * 0.5 ** 3)
    plateau = tn.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0, factor=0.5)
    lr0 = opt.param_groups[0]["lr"]
    fit(model, ScriptedValLoss([1.0, 1.0, 1.0]), opt, (x, y), epochs=3,
        validation_data=(x, y), batch_size=10, verbose=0, scheduler=plateau)
    assert opt.param_groups[0]["lr"] == pytest.approx(lr0 * 0.25)  # flat val_loss twice


# ----------------------------------------------------------------------------- verbosity


def run_small(verbose):
    x, y = blobs(20)
    model = mlp()
    fit(model, cross_entropy, tn.optim.SGD(model.parameters(), lr=0.1), (x, y), epochs=2,
        metrics=["accuracy"], batch_size=8, verbose=verbose)


def test_verbose_levels(capsys, monkeypatch):
    run_small(0)
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""
    run_small(2)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2 and lines[1].startswith("Epoch 2/2") and "accuracy: " in lines[1]
    pytest.importorskip("tqdm")
    run_small(1)
    err = capsys.readouterr().err
    assert "Epoch 1/2" in err and "samples/s" in err and "loss" in err
    monkeypatch.setitem(sys.modules, "tqdm", None)  # tqdm absent: one printed line per epoch
    run_small(1)
    out = capsys.readouterr()
    assert len(out.out.strip().splitlines()) == 2 and out.err == ""


# -------------------------------------------------------------------------------- errors


def test_fit_bad_arguments():
    x, y = blobs(10)
    model = mlp()
    opt = tn.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="epochs"):
        fit(model, cross_entropy, opt, (x, y), epochs=-1)
    with pytest.raises(ValueError, match="verbose"):
        fit(model, cross_entropy, opt, (x, y), verbose=3)
    with pytest.raises(ValueError, match="train_data.*size mismatch"):
        fit(model, cross_entropy, opt, (x, y[:5]), verbose=0)
    with pytest.raises(TypeError, match="train_data"):
        fit(model, cross_entropy, opt, 5, verbose=0)
    with pytest.raises(ValueError, match="train_data"):
        fit(model, cross_entropy, opt, (x,), verbose=0)
    with pytest.raises(ValueError, match="no batches"):
        fit(model, cross_entropy, opt,
            tn.data.DataLoader((x, y), batch_size=32, drop_last=True), verbose=0)
    with pytest.raises(TypeError, match="Callback"):
        fit(model, cross_entropy, opt, (x, y), callbacks=[lambda: None], verbose=0)
    with pytest.raises(ValueError, match="unknown metric"):
        fit(model, cross_entropy, opt, (x, y), metrics=["f1"], verbose=0)
    with pytest.raises(ValueError, match="unique"):
        fit(model, cross_entropy, opt, (x, y), metrics=["accuracy", "accuracy"], verbose=0)
    with pytest.raises(TypeError, match="must return a Tensor"):
        fit(model, lambda o, t: 1.0, opt, (x, y), verbose=0)
    assert len(fit(model, cross_entropy, opt, (x, y), epochs=0, verbose=0)) == 0


# ------------------------------------------------------------------------------ plotting


def test_plot_history_writes_png(tmp_path):
    pytest.importorskip("matplotlib")
    h = History()
    for e in range(3):
        h._append(e, {"loss": 1.0 / (e + 1), "accuracy": 0.5 + 0.1 * e, "val_loss": 1.2,
                      "val_accuracy": 0.6}, 0.1)
    out = plot_history(h, tmp_path / "h.png")
    data = (tmp_path / "h.png").read_bytes()
    assert out == str(tmp_path / "h.png") and data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 5000
    plot_history({"loss": [3, 2, 1]}, tmp_path / "d.png")
    assert (tmp_path / "d.png").stat().st_size > 1000
    with pytest.raises(ValueError, match="empty"):
        plot_history(History(), tmp_path / "e.png")


def test_plot_history_without_matplotlib(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.figure", None)
    with pytest.raises(ImportError, match="pip install matplotlib"):
        plot_history({"loss": [1.0]}, tmp_path / "x.png")
    assert not (tmp_path / "x.png").exists()
