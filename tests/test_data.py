"""turbonn.data: TensorDataset conversion and checks, DataLoader coverage (every sample exactly
once per epoch), drop_last, len, seeded shuffling, vectorised batching, collate, bad arguments."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import turbonn as tn
from turbonn.data import DataLoader, Dataset, TensorDataset, default_collate


def ids_of(loader) -> list[np.ndarray]:
    """The sample ids (first column of the single float array) of each batch."""
    return [b[0].numpy()[:, 0].astype(np.int64) for b in loader]


def id_loader(n, **kw) -> DataLoader:
    x = np.arange(n, dtype=np.float32)[:, None] * np.ones((1, 3), np.float32)
    return DataLoader((x,), **kw)


# ------------------------------------------------------------------------------ TensorDataset


def test_tensor_dataset_converts_once_and_shares_float32():
    x32 = np.ones((4, 2), np.float32)
    ds = TensorDataset(x32, np.arange(4, dtype=np.int32), np.zeros(4, bool),
                       np.ones((4, 1), np.float64), tn.tensor([1, 2, 3, 4]))
    assert len(ds) == 4
    assert [a.dtype for a in ds.arrays] == [np.float32, np.int64, np.bool_, np.float32, np.int64]
    assert ds.arrays[0] is x32 or np.shares_memory(ds.arrays[0], x32)
    sample = ds[2]
    assert isinstance(sample, tuple) and len(sample) == 5
    assert all(isinstance(t, tn.Tensor) for t in sample)
    assert sample[1].item() == 2 and sample[4].item() == 3 and sample[0].shape == (2,)


def test_tensor_dataset_errors():
    with pytest.raises(ValueError, match="size mismatch.*\\[3, 4\\]"):
        TensorDataset(np.zeros((3, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="at least one"):
        TensorDataset()
    with pytest.raises(ValueError, match="0-d"):
        TensorDataset(np.float32(1.0))
    with pytest.raises(TypeError, match="dtype"):
        TensorDataset(np.array(["a", "b"]))


# -------------------------------------------------------------------------------- DataLoader


@pytest.mark.parametrize("n,bs", [(10, 3), (9, 3), (1, 5), (7, 1), (64, 64)])
@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("shuffle", [False, True])
def test_every_sample_once_per_epoch(n, bs, drop_last, shuffle):
    tn.manual_seed(5)
    loader = id_loader(n, batch_size=bs, shuffle=shuffle, drop_last=drop_last)
    expected_batches = n // bs if drop_last else -(-n // bs)
    for _ in range(2):  # two epochs: each one complete on its own
        batches = ids_of(loader)
        assert len(batches) == len(loader) == expected_batches
        assert all(len(b) == bs for b in batches[:-1])
        got = np.concatenate(batches) if batches else np.zeros(0, np.int64)
        assert len(np.unique(got)) == len(got)
        if drop_last:
            assert len(got) == expected_batches * bs
        else:
            assert np.array_equal(np.sort(got), np.arange(n))
        if not shuffle:
            assert np.array_equal(got, np.arange(len(got)))


@settings(max_examples=40, deadline=None)
@given(n=st.integers(0, 40), bs=st.integers(1, 12), drop_last=st.booleans(),
       shuffle=st.booleans())
def test_coverage_property(n, bs, drop_last, shuffle):
    loader = id_loader(n, batch_size=bs, shuffle=shuffle, drop_last=drop_last)
    got = ids_of(loader)
    assert len(got) == len(loader)
    flat = np.concatenate(got) if got else np.zeros(0, np.int64)
    assert len(set(flat.tolist())) == len(flat) == (n // bs * bs if drop_last else n)


def test_batches_are_aligned_tensors_with_canonical_dtypes():
    x = np.arange(20, dtype=np.float64).reshape(10, 2)
    y = np.arange(10, dtype=np.int32)
    tn.manual_seed(0)
    for xb, yb in DataLoader((x, y), batch_size=4, shuffle=True):
        assert isinstance(xb, tn.Tensor) and xb.dtype == np.float32 and yb.dtype == np.int64
        assert np.array_equal(xb.numpy()[:, 0], 2 * yb.numpy())  # rows stay paired
    xb, yb = next(iter(DataLoader((x, y), batch_size=4)))
    assert xb.shape == (4, 2) and yb.shape == (4,)
    # a single array gives 1-tuples; Tensors are accepted too
    (only,) = next(iter(DataLoader(tn.tensor(x), batch_size=3)))
    assert only.shape == (3, 2)


def test_batches_are_copies():
    x = np.zeros((6, 2), np.float32)
    for shuffle in (False, True):
        for (xb,) in DataLoader((x,), batch_size=4, shuffle=shuffle):
            xb.numpy()[...] = 7
    assert not x.any()


def test_manual_seed_fixes_the_order_and_epochs_differ():
    loader = id_loader(50, batch_size=7, shuffle=True)
    tn.manual_seed(11)
    a1, a2 = np.concatenate(ids_of(loader)), np.concatenate(ids_of(loader))
    tn.manual_seed(11)
    b1, b2 = np.concatenate(ids_of(loader)), np.concatenate(ids_of(loader))
    tn.manual_seed(12)
    c1 = np.concatenate(ids_of(loader))
    assert np.array_equal(a1, b1) and np.array_equal(a2, b2)
    assert not np.array_equal(a1, a2) and not np.array_equal(a1, c1)
    assert not np.array_equal(a1, np.arange(50))


def test_permutation_drawn_when_iteration_starts():
    loader = id_loader(30, batch_size=4, shuffle=True)
    tn.manual_seed(3)
    expected = np.concatenate(ids_of(loader))
    tn.manual_seed(3)
    it = iter(loader)
    tn.manual_seed(99)  # reseeding after iter() must not change this epoch's order
    assert np.array_equal(np.concatenate([b[0].numpy()[:, 0] for b in it]), expected)


def test_explicit_generator_leaves_global_stream_alone():
    tn.manual_seed(1)
    before = tn.get_rng_state()
    a = np.concatenate(ids_of(id_loader(20, batch_size=6, shuffle=True,
                                        generator=np.random.default_rng(4))))
    b = np.concatenate(ids_of(id_loader(20, batch_size=6, shuffle=True,
                                        generator=np.random.default_rng(4))))
    assert np.array_equal(a, b) and not np.array_equal(a, np.arange(20))
    assert tn.get_rng_state() == before


def test_array_backed_batching_is_vectorised(monkeypatch):
    def per_sample(self, index):
        raise AssertionError("per-sample __getitem__ called on the array-backed path")
    monkeypatch.setattr(TensorDataset, "__getitem__", per_sample)
    assert len(ids_of(id_loader(25, batch_size=8, shuffle=True))) == 4


def test_empty_dataset():
    loader = id_loader(0, batch_size=3, shuffle=True)
    assert len(loader) == 0 and list(loader) == []


# ---------------------------------------------------------------------- generic datasets


class Squares(Dataset):
    def __init__(self, n, as_dict=False):
        self.n, self.as_dict, self.calls = n, as_dict, 0

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        self.calls += 1
        x, y = np.full(2, float(i)), i * i
        return {"x": x, "y": y} if self.as_dict else (x, y)


def test_generic_dataset_default_collate():
    ds = Squares(7)
    batches = list(DataLoader(ds, batch_size=3))
    assert ds.calls == 7 and len(batches) == 3
    xb, yb = batches[0]
    assert xb.dtype == np.float32 and xb.shape == (3, 2) and yb.dtype == np.int64
    assert yb.tolist() == [0, 1, 4] and batches[-1][1].tolist() == [36]
    d = next(iter(DataLoader(Squares(4, as_dict=True), batch_size=4)))
    assert set(d) == {"x", "y"} and d["y"].tolist() == [0, 1, 4, 9]


def test_collate_fn_receives_the_samples():
    seen = []

    def collate(samples):
        seen.append(len(samples))
        return ("custom", len(samples))
    out = list(DataLoader((np.zeros((5, 1)), np.zeros(5)), batch_size=2, collate_fn=collate))
    assert out == [("custom", 2), ("custom", 2), ("custom", 1)] and seen == [2, 2, 1]


def test_default_collate_rejects_ragged():
    with pytest.raises(ValueError, match="different shapes"):
        default_collate([np.zeros(2), np.zeros(3)])


def test_base_dataset_is_abstract():
    with pytest.raises(NotImplementedError):
        len(Dataset())


@pytest.mark.parametrize("kw,exc,match", [
    (dict(batch_size=0), ValueError, "batch_size"),
    (dict(batch_size=-2), ValueError, "batch_size"),
    (dict(batch_size=2.0), TypeError, "batch_size"),
    (dict(batch_size=True), TypeError, "batch_size"),
    (dict(num_workers=2), ValueError, "num_workers"),
    (dict(generator=3), TypeError, "generator"),
    (dict(collate_fn=5), TypeError, "collate_fn"),
])
def test_bad_arguments(kw, exc, match):
    with pytest.raises(exc, match=match):
        DataLoader((np.zeros((4, 2)), np.zeros(4)), **kw)


def test_bad_dataset():
    with pytest.raises(ValueError, match="size mismatch"):
        DataLoader((np.zeros((4, 2)), np.zeros(5)))
    with pytest.raises(TypeError, match="dataset"):
        DataLoader(42)
