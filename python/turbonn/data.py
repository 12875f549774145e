"""Batching: ``Dataset``, ``TensorDataset`` and ``DataLoader`` with PyTorch's names and semantics.

Array-backed data (a ``TensorDataset``, or a tuple of arrays/Tensors given to ``DataLoader``) is
batched by one fancy-indexing gather per array, with no per-sample Python loop. There are no
worker processes: batches come from the calling process (a child forked after OpenMP has run
hangs in libgomp, and gathering from memory is already fast).
"""
from __future__ import annotations

import numbers
from collections.abc import Mapping
from typing import Callable, Sequence

import numpy as np

from .random import default_generator
from .tensor import Tensor

__all__ = ["Dataset", "TensorDataset", "DataLoader", "default_collate"]


class Dataset:
    """Base class of map-style datasets: define ``__getitem__(i)`` and ``__len__``."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __len__(self) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define __len__")


def _as_array(x, what: str) -> np.ndarray:
    """float -> float32, integer -> int64, bool -> bool (converted once, not per batch)."""
    data = x.data if isinstance(x, Tensor) else np.asarray(x)
    if data.dtype.kind == "f":
        target = np.float32
    elif data.dtype.kind in "iu":
        target = np.int64
    elif data.dtype.kind == "b":
        target = np.bool_
    else:
        raise TypeError(f"{what}: unsupported dtype {data.dtype} (expected float, integer or "
                        f"bool data)")
    if data.ndim == 0:
        raise ValueError(f"{what}: a 0-d array has no samples (expected a first dimension)")
    return np.ascontiguousarray(data, dtype=target)


class TensorDataset(Dataset):
    """Samples are the rows (first dimension) of each given array or Tensor.

    Data is converted once (floats to float32, integers to int64); arrays that already have
    those dtypes are shared, not copied. ``dataset[i]`` is a tuple of Tensors, one per array.
    """

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset needs at least one array or Tensor")
        self.arrays = tuple(_as_array(t, f"TensorDataset: tensors[{i}]")
                            for i, t in enumerate(tensors))
        sizes = [a.shape[0] for a in self.arrays]
        if any(n != sizes[0] for n in sizes):
            raise ValueError(f"TensorDataset: size mismatch between tensors: first dimensions "
                             f"are {sizes}, they must all be equal")

    @property
    def tensors(self) -> tuple:
        return tuple(Tensor(a) for a in self.arrays)

    def __getitem__(self, index):
        return tuple(Tensor(np.array(a[index])) for a in self.arrays)

    def __len__(self) -> int:
        return self.arrays[0].shape[0]


def default_collate(batch: Sequence):
    """Stack a list of samples into batch Tensors: tuples/lists per position (a tuple out),
    dicts per key, arrays/Tensors/numbers into one Tensor with a new first dimension."""
    elem = batch[0]
    if isinstance(elem, Mapping):
        return {k: default_collate([s[k] for s in batch]) for k in elem}
    if isinstance(elem, (tuple, list)):
        if any(len(s) != len(elem) for s in batch):
            raise ValueError("default_collate: every sample in a batch must have the same "
                             "number of fields")
        return tuple(default_collate(list(field)) for field in zip(*batch))
    arrays = [s.data if isinstance(s, Tensor) else np.asarray(s) for s in batch]
    shapes = {a.shape for a in arrays}
    if len(shapes) != 1:
        raise ValueError(f"default_collate: samples have different shapes {sorted(shapes)}; "
                         f"pass a collate_fn that pads or stacks them")
    return Tensor(_as_array(np.stack(arrays), "default_collate"))


def _check_positive_int(value, name: str) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"{name} should be a positive integer, got {type(value).__name__} "
                        f"{value!r}")
    if value <= 0:
        raise ValueError(f"{name} should be a positive integer, got {value}")
    return int(value)


class DataLoader:
    """Iterate over ``dataset`` in batches.

    ``dataset`` is a ``Dataset`` or a tuple/list of arrays/Tensors (wrapped in a
    ``TensorDataset``; a single array gives 1-tuples). Each batch is a tuple of Tensors (or what
    ``collate_fn`` returns). With ``shuffle=True`` a new permutation is drawn when iteration
    starts, from ``generator`` (a ``numpy.random.Generator``) or else from turbonn's global
    generator, so ``turbonn.manual_seed(s)`` fixes the order. ``drop_last`` drops a final
    incomplete batch. ``num_workers`` must be 0: batches are built in this process.
    """

    def __init__(self, dataset, batch_size: int = 1, shuffle: bool = False,
                 drop_last: bool = False, generator: np.random.Generator | None = None,
                 collate_fn: Callable | None = None, num_workers: int = 0):
        if isinstance(dataset, (tuple, list)):
            dataset = TensorDataset(*dataset)
        elif isinstance(dataset, (np.ndarray, Tensor)):
            dataset = TensorDataset(dataset)
        elif not (hasattr(dataset, "__getitem__") and hasattr(dataset, "__len__")):
            raise TypeError(f"DataLoader: dataset must be a Dataset or a tuple of arrays, got "
                            f"{type(dataset).__name__}")
        if generator is not None and not isinstance(generator, np.random.Generator):
            raise TypeError(f"DataLoader: generator must be a numpy.random.Generator or None, "
                            f"got {type(generator).__name__}")
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError("DataLoader: collate_fn must be callable")
        if num_workers != 0:
            raise ValueError(f"DataLoader: num_workers={num_workers!r} is not supported (only "
                             f"0): a process forked after OpenMP kernels have run hangs, and "
                             f"array batching needs no workers")
        self.dataset = dataset
        self.batch_size = _check_positive_int(batch_size, "batch_size")
        self.shuffle, self.drop_last = bool(shuffle), bool(drop_last)
        self.generator, self.collate_fn = generator, collate_fn
        self.num_workers = 0

    def __len__(self) -> int:
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)

    def _order(self, n: int):
        if not self.shuffle:
            return None
        gen = self.generator if self.generator is not None else default_generator()
        return gen.permutation(n)

    def __iter__(self):
        # The permutation is drawn here, when iteration starts (as torch's sampler does), not
        # lazily at the first batch: the RNG stream is then the same however batches are read.
        n = len(self.dataset)
        return self._batches(n, self._order(n))

    def _batches(self, n: int, order):
        bs, stop = self.batch_size, len(self) * self.batch_size
        for start in range(0, min(n, stop), bs):
            end = min(start + bs, n)
            if isinstance(self.dataset, TensorDataset) and self.collate_fn is None:
                if order is None:  # a copy, so writing into a batch cannot touch the data
                    yield tuple(Tensor(a[start:end].copy()) for a in self.dataset.arrays)
                else:
                    idx = order[start:end]
                    yield tuple(Tensor(a[idx]) for a in self.dataset.arrays)
                continue
            idx = range(start, end) if order is None else order[start:end]
            samples = [self.dataset[int(i)] for i in idx]
            yield (self.collate_fn or default_collate)(samples)

    def __repr__(self) -> str:
        return (f"DataLoader(dataset={type(self.dataset).__name__} of {len(self.dataset)}, "
                f"batch_size={self.batch_size}, shuffle={self.shuffle}, "
                f"drop_last={self.drop_last})")
