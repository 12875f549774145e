"""A Keras-style training loop over turbonn modules: ``fit`` -> ``History``, ``evaluate``,
callbacks (``Callback``, ``EarlyStopping``), the ``accuracy`` metric and ``plot_history``.
Plain PyTorch steps inside (zero_grad, forward, loss, backward, step); no hidden state.
"""
from __future__ import annotations

import numbers
import os
import sys
import time
from collections.abc import Mapping
from typing import Callable, Iterable

import numpy as np

from .autograd import no_grad
from .data import DataLoader
from .optim.lr_scheduler import ReduceLROnPlateau
from .tensor import Tensor

__all__ = ["fit", "evaluate", "History", "Callback", "EarlyStopping", "accuracy",
           "plot_history"]


# ---------------------------------------------------------------------------------- metrics


def _array(x) -> np.ndarray:
    return x.data if isinstance(x, Tensor) else np.asarray(x)


def accuracy(output, target) -> float:
    """Fraction of correct predictions.

    Several outputs per sample (``(N, C)``, or ``(N, C, d1, ...)``): the class is the argmax
    over dim 1 (torch's class dim); ``target`` holds class indices, or one-hot/probability rows
    of the output's shape. One output per sample (``(N,)`` or ``(N, 1)``) is read as a logit:
    predicted positive when > 0, target positive when > 0.5. A model ending in a sigmoid emits
    probabilities, whose threshold is 0.5, not 0: give such models a metric of your own.
    """
    out, tgt = _array(output), _array(target)
    if out.ndim >= 2 and out.shape[1] > 1:
        pred = out.argmax(axis=1)
        if tgt.shape == out.shape:
            tgt = tgt.argmax(axis=1)
    else:
        pred, tgt = (out > 0).reshape(-1), (tgt > 0.5).reshape(-1)
    if pred.shape != tgt.shape:
        raise ValueError(f"accuracy: predictions of shape {pred.shape} (from output "
                         f"{out.shape}) do not match target of shape {_array(target).shape}")
    return float(np.mean(pred == tgt)) if pred.size else float("nan")


def _metric_fns(metrics) -> list[tuple[str, Callable]]:
    if isinstance(metrics, str) or callable(metrics):
        metrics = [metrics]  # a lone "accuracy" or function; a (name, fn) pair goes in a list
    out = []
    for m in metrics:
        if isinstance(m, str):
            if m not in ("accuracy", "acc"):
                raise ValueError(f"unknown metric {m!r}: the built-in is 'accuracy'; pass a "
                                 f"callable metric(output, target) -> float for others")
            out.append((m, accuracy))
        elif isinstance(m, tuple) and len(m) == 2 and isinstance(m[0], str) and callable(m[1]):
            out.append(m)
        elif callable(m):
            out.append((getattr(m, "__name__", type(m).__name__), m))
        else:
            raise TypeError(f"metrics entries must be 'accuracy', a callable or a "
                            f"(name, callable) pair, got {m!r}")
    names = [n for n, _ in out]
    if len(set(names)) != len(names) or "loss" in names:
        raise ValueError(f"metric names must be unique and not 'loss', got {names}")
    return out


# ---------------------------------------------------------------------------------- history


class History(Mapping):
    """What ``fit`` returns: ``history["loss"]``, ``history["val_accuracy"]`` ... one float per
    epoch; ``.epochs`` the 0-based indices of the epochs run; ``.epoch_times`` their seconds."""

    def __init__(self):
        self.history: dict[str, list[float]] = {}
        self.epochs: list[int] = []
        self.epoch_times: list[float] = []

    @property
    def epoch(self) -> list[int]:  # Keras's name
        return self.epochs

    def _append(self, epoch: int, logs: dict, seconds: float) -> None:
        self.epochs.append(epoch)
        self.epoch_times.append(seconds)
        for k, v in logs.items():
            self.history.setdefault(k, []).append(v)

    def __getitem__(self, key: str) -> list[float]:
        return self.history[key]

    def __iter__(self):
        return iter(self.history)

    def __len__(self) -> int:
        return len(self.history)

    def __repr__(self) -> str:
        return f"History(epochs={len(self.epochs)}, keys={list(self.history)})"


# -------------------------------------------------------------------------------- callbacks


class Callback:
    """Hooks ``fit`` calls; ``self.model`` is set before ``on_train_begin``. Returning True from
    ``on_epoch_end`` stops training after that epoch (every callback still sees it)."""

    model = None

    def set_model(self, model) -> None:
        self.model = model

    def on_train_begin(self, logs: dict | None = None) -> None:
        pass

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        pass

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> bool | None:
        return False

    def on_train_end(self, logs: dict | None = None) -> None:
        pass


class EarlyStopping(Callback):
    """Stop when ``monitor`` has not improved by more than ``min_delta`` for ``patience``
    epochs in a row (Keras's rule). ``mode="auto"`` maximises names containing "acc" or "auc"
    and minimises the rest. With ``restore_best_weights`` the model's ``state_dict`` is copied
    at each new best and loaded back when training ends, whether or not it stopped early.
    After fit: ``best``, ``best_epoch`` and ``stopped_epoch`` (None when it ran to the end).
    """

    def __init__(self, monitor: str = "val_loss", patience: int = 5, min_delta: float = 0.0,
                 mode: str = "auto", restore_best_weights: bool = False):
        if not isinstance(patience, numbers.Integral) or isinstance(patience, bool) \
                or patience < 0:
            raise ValueError(f"EarlyStopping: patience must be an int >= 0, got {patience!r}")
        if not isinstance(min_delta, numbers.Real) or not min_delta >= 0:
            raise ValueError(f"EarlyStopping: min_delta must be >= 0, got {min_delta!r}")
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"EarlyStopping: mode must be 'auto', 'min' or 'max', got {mode!r}")
        if not isinstance(monitor, str):
            raise TypeError(f"EarlyStopping: monitor must be the name of a logged value, got "
                            f"{monitor!r}")
        if mode == "auto":
            mode = "max" if ("acc" in monitor or "auc" in monitor) else "min"
        self.monitor, self.patience, self.min_delta = monitor, int(patience), float(min_delta)
        self.mode, self.restore_best_weights = mode, bool(restore_best_weights)
        self._reset()

    def _reset(self) -> None:
        self.best = float("inf") if self.mode == "min" else float("-inf")
        self.best_epoch: int | None = None
        self.stopped_epoch: int | None = None
        self.best_weights = None
        self.wait = 0

    def _improved(self, current: float) -> bool:
        if self.mode == "min":
            return current < self.best - self.min_delta
        return current > self.best + self.min_delta

    def on_train_begin(self, logs=None) -> None:
        self._reset()

    def on_epoch_end(self, epoch, logs=None) -> bool:
        logs = logs or {}
        if self.monitor not in logs:
            hint = " (pass validation_data to fit)" if self.monitor.startswith("val_") else ""
            raise ValueError(f"EarlyStopping monitors {self.monitor!r}, which is not among the "
                             f"logged values {sorted(logs)}{hint}")
        current = float(logs[self.monitor])
        if self._improved(current):
            self.best, self.best_epoch, self.wait = current, epoch, 0
            if self.restore_best_weights:
                self.best_weights = self.model.state_dict()  # copies of every array
            return False
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            return True
        return False

    def on_train_end(self, logs=None) -> None:
        if self.restore_best_weights and self.best_weights is not None:
            self.model.load_state_dict(self.best_weights)


# ------------------------------------------------------------------------------------ loops


def _loader(data, batch_size: int, shuffle: bool, what: str) -> DataLoader:
    if isinstance(data, DataLoader):
        return data
    if isinstance(data, (tuple, list)):
        if len(data) < 2:
            raise ValueError(f"{what} must be (inputs, target) arrays or a DataLoader, got a "
                             f"sequence of {len(data)}")
        try:
            return DataLoader(tuple(data), batch_size=batch_size, shuffle=shuffle)
        except (ValueError, TypeError) as e:
            raise type(e)(f"{what}: {e}") from None
    if hasattr(data, "__getitem__") and hasattr(data, "__len__"):
        return DataLoader(data, batch_size=batch_size, shuffle=shuffle)
    raise TypeError(f"{what} must be a DataLoader, a Dataset or an (x, y) tuple of arrays, "
                    f"got {type(data).__name__}")


def _split(batch, what: str):
    if not isinstance(batch, (tuple, list)) or len(batch) < 2:
        raise ValueError(f"{what}: each batch must be a tuple (inputs..., target), got "
                         f"{type(batch).__name__}")
    return batch[:-1], batch[-1]


def _batch_len(target) -> int:
    shape = target.shape if isinstance(target, (Tensor, np.ndarray)) else np.shape(target)
    return int(shape[0]) if shape else 1


def _run(model, loss_fn, loader, metric_fns, what, optimizer=None, on_batch=None) -> dict:
    """One pass over ``loader``: training steps when ``optimizer`` is given. Returns the
    sample-weighted means of the loss and every metric."""
    totals = dict.fromkeys(["loss"] + [n for n, _ in metric_fns], 0.0)
    seen = 0
    for batch in loader:
        inputs, target = _split(batch, what)
        if optimizer is not None:
            optimizer.zero_grad()
        output = model(*inputs)
        loss = loss_fn(output, target)
        if not isinstance(loss, Tensor):
            raise TypeError(f"loss_fn must return a Tensor, got {type(loss).__name__}")
        if optimizer is not None:
            loss.backward()
            optimizer.step()
            output = output.detach() if isinstance(output, Tensor) else output
        n = _batch_len(target)
        seen += n
        totals["loss"] += float(loss.item()) * n
        for name, fn in metric_fns:
            totals[name] += float(fn(output, target)) * n
        if on_batch is not None:
            on_batch(seen, totals)
    if seen == 0:
        raise ValueError(f"{what} produced no batches (empty, or drop_last with fewer samples "
                         f"than batch_size)")
    return {k: v / seen for k, v in totals.items()}


def evaluate(model, loss_fn, data, metrics: Iterable = (), batch_size: int = 32) -> dict:
    """Mean loss and metrics of ``model`` on ``data`` (a DataLoader or an (x, y) tuple), in
    eval mode under ``no_grad``; the model's train/eval mode is restored afterwards."""
    loader = _loader(data, batch_size, False, "data")
    was_training = model.training
    model.eval()
    try:
        with no_grad():
            return _run(model, loss_fn, loader, _metric_fns(metrics), "data")
    finally:
        model.train(was_training)


def _format_logs(logs: dict) -> str:
    return " - ".join(f"{k}: {v:.4f}" for k, v in logs.items())


def _progress_bar(verbose: int, total: int, desc: str):
    if verbose != 1:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, desc=desc, unit="batch", leave=True, dynamic_ncols=True)


def fit(model, loss_fn, optimizer, train_data, epochs: int = 1, validation_data=None,
        metrics: Iterable = (), callbacks: Iterable = (), batch_size: int = 32,
        shuffle: bool = True, verbose: int = 1, scheduler=None) -> History:
    """Train ``model`` for ``epochs`` epochs; returns a ``History``.

    ``train_data``/``validation_data``: a DataLoader, a Dataset, or an (x, y) tuple of
    arrays/Tensors (batched with ``batch_size``; training batches reshuffled every epoch when
    ``shuffle``, from turbonn's global generator). Each batch ``(inputs..., target)`` runs
    ``optimizer.zero_grad(); loss_fn(model(*inputs), target).backward(); optimizer.step()`` in
    train mode; validation runs in eval mode under ``no_grad``. Logged per epoch: ``loss``
    and every metric (sample-weighted means over the epoch's training batches, as the model
    was while training), then ``val_loss`` and ``val_<metric>``. ``metrics``: "accuracy" (see
    ``accuracy``), callables ``metric(output, target) -> float`` (named by ``__name__``) or
    ``(name, callable)`` pairs. ``scheduler.step()`` runs after each epoch
    (``ReduceLROnPlateau`` gets val_loss, or loss without validation data). ``verbose``: 0
    silent, 1 a tqdm bar per epoch (a printed line when tqdm is not installed), 2 a line per
    epoch. The model's train/eval mode is restored at the end.
    """
    if not isinstance(epochs, numbers.Integral) or isinstance(epochs, bool) or epochs < 0:
        raise ValueError(f"fit: epochs must be an int >= 0, got {epochs!r}")
    if verbose not in (0, 1, 2):
        raise ValueError(f"fit: verbose must be 0, 1 or 2, got {verbose!r}")
    train_loader = _loader(train_data, batch_size, shuffle, "train_data")
    val_loader = None if validation_data is None else \
        _loader(validation_data, batch_size, False, "validation_data")
    metric_fns = _metric_fns(metrics)
    callbacks = list(callbacks)
    for cb in callbacks:
        if not isinstance(cb, Callback):
            raise TypeError(f"callbacks must be turbonn Callback instances, got "
                            f"{type(cb).__name__}")
        cb.set_model(model)

    history, logs = History(), {}
    was_training = model.training
    for cb in callbacks:
        cb.on_train_begin({})
    try:
        for epoch in range(int(epochs)):
            for cb in callbacks:
                cb.on_epoch_begin(epoch, {})
            start = time.perf_counter()
            bar = _progress_bar(verbose, len(train_loader), f"Epoch {epoch + 1}/{epochs}")

            speed = {"rate": 0.0}

            def on_batch(seen, totals, bar=bar, speed=speed):
                if bar is not None:
                    bar.update(1)
                    speed["rate"] = seen / max(time.perf_counter() - start, 1e-9)
                    bar.set_postfix_str(f"loss={totals['loss'] / seen:.4f}, "
                                        f"{speed['rate']:,.0f} samples/s", refresh=False)
            try:
                model.train()
                logs = _run(model, loss_fn, train_loader, metric_fns, "train_data", optimizer,
                            on_batch)
                if val_loader is not None:
                    model.eval()
                    with no_grad():
                        val = _run(model, loss_fn, val_loader, metric_fns, "validation_data")
                    logs.update({"val_" + k: v for k, v in val.items()})
                seconds = time.perf_counter() - start
                if bar is not None:
                    bar.set_postfix_str(f"{_format_logs(logs)} - {seconds:.2f}s - "
                                        f"{speed['rate']:,.0f} samples/s")
            finally:
                if bar is not None:
                    bar.close()
            if verbose == 2 or (verbose == 1 and bar is None):
                print(f"Epoch {epoch + 1}/{epochs} - {seconds:.2f}s - {_format_logs(logs)}",
                      file=sys.stdout, flush=True)
            if scheduler is not None:
                if isinstance(scheduler, ReduceLROnPlateau):
                    scheduler.step(logs.get("val_loss", logs["loss"]))
                else:
                    scheduler.step()
            history._append(epoch, logs, seconds)
            stop = False
            for cb in callbacks:
                stop = bool(cb.on_epoch_end(epoch, dict(logs))) or stop
            if stop:
                break
    finally:
        model.train(was_training)
    for cb in callbacks:
        cb.on_train_end(dict(logs))
    return history


# --------------------------------------------------------------------------------- plotting


def plot_history(history, path) -> str:
    """Write a PNG of the loss and metric curves (train and validation, per epoch) to ``path``.

    ``history`` is a ``History`` or a dict of lists. Needs matplotlib (imported here, drawn with
    the Agg canvas directly, so no pyplot state or GUI backend is touched)."""
    try:
        from matplotlib.figure import Figure
        from matplotlib.ticker import MaxNLocator
    except ImportError:
        raise ImportError("plot_history needs matplotlib: pip install matplotlib") from None
    hist = dict(history.history if isinstance(history, History) else history)
    if not hist or not any(len(v) for v in hist.values()):
        raise ValueError("plot_history: the history is empty (no epoch was run)")
    names = [k for k in hist if not k.startswith("val_")]
    names += [k[4:] for k in hist if k.startswith("val_") and k[4:] not in hist]
    fig = Figure(figsize=(4.5 * len(names), 3.6))
    axes = fig.subplots(1, len(names), squeeze=False)[0]
    for ax, name in zip(axes, names):
        for key, label in ((name, "train"), ("val_" + name, "validation")):
            if key in hist:
                values = hist[key]
                epochs = (np.asarray(history.epochs[:len(values)]) + 1
                          if isinstance(history, History) else np.arange(1, len(values) + 1))
                ax.plot(epochs, values, marker="o" if len(values) <= 30 else None, label=label)
        ax.set_title(name)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    path = os.fspath(path)
    fig.savefig(path, format="png", dpi=100)
    return path
