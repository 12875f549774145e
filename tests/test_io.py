"""turbonn.save / turbonn.load: safetensors layout byte by byte, round trips of every dtype and
of nested checkpoints (exact types), interop with the safetensors package, corrupt and foreign
files, atomic writes under failure, RNG state, and a bit-identical resumed training run."""
from __future__ import annotations

import io
import json
import os
import struct
import zipfile
from collections import OrderedDict

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import turbonn as tn
import turbonn.io as tio
from turbonn import nn

DTYPES = [np.bool_, np.uint8, np.int8, np.int16, np.uint16, np.float16, np.int32, np.uint32,
          np.float32, np.int64, np.uint64, np.float64]


def assert_same(a, b, where="obj"):
    """Equal values AND types, recursively (arrays: dtype, shape, bits; NaN equals NaN)."""
    assert type(a) is type(b), f"{where}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, tn.Tensor):
        assert a.requires_grad == b.requires_grad, where
        a, b = a.data, b.data
    if isinstance(a, (np.ndarray, np.generic)):
        assert a.dtype == b.dtype and np.shape(a) == np.shape(b), where
        assert np.array_equal(a, b, equal_nan=a.dtype.kind == "f"), where
    elif isinstance(a, dict):
        assert list(a) == list(b), where
        for k in a:
            assert type(k) is type([kb for kb in b if kb == k][0]), f"{where} key {k!r}"
            assert_same(a[k], b[k], f"{where}[{k!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_same(x, y, f"{where}[{i}]")
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b), where
    else:
        assert a == b, where


def roundtrip(obj, tmp_path):
    path = tmp_path / "ckpt.safetensors"
    tn.save(obj, path)
    return tn.load(path)


def read_header(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    return json.loads(raw[8:8 + n]), raw[8 + n:], n


# --------------------------------------------------------------------------------- format


def test_layout_byte_by_byte(tmp_path):
    w = np.arange(6, dtype=np.float32).reshape(2, 3)
    b = np.array([1, -2], np.int64)
    tn.save(OrderedDict([("w", w), ("b", b)]), tmp_path / "f.st", metadata={"note": "hi"})
    header, data, n = read_header(tmp_path / "f.st")
    assert (8 + n) % 8 == 0  # data buffer 8-byte aligned, header padded with spaces
    assert header["w"] == {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}
    assert header["b"] == {"dtype": "I64", "shape": [2], "data_offsets": [24, 40]}
    assert header["__metadata__"]["note"] == "hi"
    assert data == w.astype("<f4").tobytes() + b.astype("<i8").tobytes()
    assert tio.load_metadata(tmp_path / "f.st")["note"] == "hi"


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("shape", [(), (0,), (3, 0, 2), (5,), (2, 3, 4)])
def test_every_dtype_and_shape(dtype, shape, tmp_path):
    rng = np.random.default_rng(0)
    a = np.asarray(rng.standard_normal(shape) * 100).astype(dtype)  # () stays a 0-d array
    assert_same(roundtrip({"a": a}, tmp_path), {"a": a})


def test_big_endian_and_strided_inputs(tmp_path):
    base = np.arange(24, dtype=np.float64).reshape(4, 6)
    obj = {"be": np.arange(5, dtype=">f4"), "view": base[:, ::2], "t": base.T}
    got = roundtrip(obj, tmp_path)
    assert got["be"].dtype == np.float32 and np.array_equal(got["be"], np.arange(5))
    assert np.array_equal(got["view"], base[:, ::2]) and np.array_equal(got["t"], base.T)
    assert got["t"].flags.c_contiguous and got["t"].flags.writeable


def test_nested_checkpoint_exact_types(tmp_path):
    tn.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    opt = tn.optim.Adam(model.parameters(), lr=1e-3, betas=(0.8, 0.99), amsgrad=True)
    model(tn.tensor(np.ones((2, 3), np.float32))).sum().backward()
    opt.step()
    obj = {
        "model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 3,
        "rng": tn.get_rng_state(), "name": "run-1", "none": None, "flags": [True, False],
        "floats": [0.1, -0.0, float("inf"), float("-inf"), float("nan"), 1e300],
        "big": 2 ** 100, "tuple": (1, "a", (2.5, None)), "np": np.float32(2.5),
        "np_int": np.int64(-7), "tensor": tn.tensor([1.0, 2.0], requires_grad=True),
        "keys": {1: "one", (2, "x"): "tuple", None: 0, 2.5: [], True: {}}, "empty": {},
        "list_of_dicts": [{"a": np.zeros(2)}, {"a": np.ones(1, np.int8)}],
        "ordered": OrderedDict(z=1, a=2),
    }
    got = roundtrip(obj, tmp_path)
    assert_same(got, obj)
    assert isinstance(got["model"], OrderedDict) and 0 in got["optimizer"]["state"]
    # what a resumed run does with it
    model2 = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    model2.load_state_dict(got["model"])
    opt2 = tn.optim.Adam(model2.parameters())
    opt2.load_state_dict(got["optimizer"])
    assert_same(opt2.state_dict(), opt.state_dict())


def test_flattened_names_and_collisions(tmp_path):
    obj = {"a.b": np.zeros(1), "a": {"b": np.ones(1)}, "l": [np.zeros(2), {"k": np.ones(3)}]}
    path = tmp_path / "c.st"
    tn.save(obj, path)
    header, _, _ = read_header(path)
    assert set(header) - {"__metadata__"} == {"a.b", "a.b#1", "l.0", "l.1.k"}
    assert_same(tn.load(path), obj)
    assert_same(roundtrip(np.arange(3), tmp_path), np.arange(3))  # a bare array
    assert_same(roundtrip([1, "x"], tmp_path), [1, "x"])  # no arrays at all


def test_file_objects():
    buf = io.BytesIO()
    obj = {"x": np.arange(4, dtype=np.int16), "meta": {"step": 2}}
    tn.save(obj, buf)
    buf.seek(0)
    assert_same(tn.load(buf), obj)


@pytest.mark.parametrize("obj,exc,match", [
    ({"c": np.zeros(2, np.complex64)}, TypeError, "complex64"),
    ({"s": np.array(["a"])}, TypeError, "dtype"),
    ({"o": object()}, TypeError, "type object at 'o'"),
    ({"s": {1, 2}}, TypeError, "set"),
    ({frozenset(): 1}, TypeError, "dict key"),
])
def test_unsupported_values(obj, exc, match, tmp_path):
    with pytest.raises(exc, match=match):
        tn.save(obj, tmp_path / "x.st")
    assert os.listdir(tmp_path) == []


def test_self_reference_and_metadata_checks(tmp_path):
    loop = []
    loop.append(loop)
    with pytest.raises(ValueError, match="contains itself"):
        tn.save(loop, tmp_path / "x.st")
    with pytest.raises(ValueError, match="reserved"):
        tn.save({}, tmp_path / "x.st", metadata={tio.STRUCTURE_KEY: "x"})
    with pytest.raises(TypeError, match="str -> str"):
        tn.save({}, tmp_path / "x.st", metadata={"n": 1})
    shared = np.zeros(2)
    assert_same(roundtrip({"a": shared, "b": shared}, tmp_path), {"a": shared, "b": shared})


# --------------------------------------------------------------------------------- interop


def test_safetensors_package_reads_ours_and_we_read_theirs(tmp_path):
    st_np = pytest.importorskip("safetensors.numpy")
    ours = {"model": {"w": np.arange(6, dtype=np.float32).reshape(2, 3),
                      "mask": np.array([True, False])},
            "step": np.array(7, np.int64), "epoch": 2}
    tn.save(ours, tmp_path / "ours.st")
    flat = st_np.load_file(tmp_path / "ours.st")
    assert set(flat) == {"model.w", "model.mask", "step"}
    assert_same(flat["model.w"], ours["model"]["w"]) and flat["step"] == 7
    theirs = {f"t{i}": np.arange(3 * i, dtype=d).reshape(3, i) for i, d in enumerate(DTYPES)}
    st_np.save_file(theirs, tmp_path / "theirs.st", metadata={"format": "np"})
    got = tn.load(tmp_path / "theirs.st")
    assert type(got) is dict and set(got) == set(theirs)
    for k in theirs:
        assert_same(got[k], theirs[k], k)
    assert tio.load_metadata(tmp_path / "theirs.st") == {"format": "np"}


def write_raw(path, header, data=b"", n=None):
    raw = header if isinstance(header, bytes) else json.dumps(header).encode()
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw) if n is None else n) + raw + data)


def test_bf16_is_widened_exactly(tmp_path):
    values = np.array([1.0, -2.5, 3.140625, np.inf], np.float32)
    bits = (values.view(np.uint32) >> 16).astype("<u2")
    write_raw(tmp_path / "b.st", {"x": {"dtype": "BF16", "shape": [4],
                                        "data_offsets": [0, 8]}}, bits.tobytes())
    got = tn.load(tmp_path / "b.st")["x"]
    assert got.dtype == np.float32 and np.array_equal(got, values)


# ---------------------------------------------------------------------------- bad files


def good_entry(**kw):
    return {"x": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8], **kw}}


@pytest.mark.parametrize("header,data,n,match", [
    (b"", b"", None, "truncated"),                       # header length 0
    (good_entry(), b"\0" * 8, 10 ** 9, "limit"),          # oversized header length
    (good_entry(), b"\0" * 8, 5000, "truncated"),         # longer than the file
    (b"{not json", b"", None, "JSON"),
    (b"\xff\xfe{}", b"", None, "JSON"),                   # not UTF-8
    (b"[1, 2]", b"", None, "JSON object"),
    (b'{"x": 1, "x": 2}', b"", None, "duplicate"),
    (good_entry(), b"\0" * 4, None, "out of bounds"),   # data truncated
    (good_entry(data_offsets=[0, 16]), b"\0" * 8, None, "out of bounds"),
    (good_entry(data_offsets=[-8, 0]), b"\0" * 8, None, "out of bounds"),
    (good_entry(data_offsets=[0]), b"\0" * 8, None, "out of bounds"),
    (good_entry(data_offsets=[0, 4]), b"\0" * 8, None, "needs 8"),
    (good_entry(shape=[-2]), b"\0" * 8, None, "non-negative"),
    (good_entry(shape=[True, 2]), b"\0" * 8, None, "non-negative"),
    (good_entry(shape=2), b"\0" * 8, None, "non-negative"),
    (good_entry(dtype="F8_E4M3"), b"\0" * 8, None, "unsupported dtype"),
    (good_entry(dtype="Q"), b"\0" * 8, None, "unsupported dtype"),
    ({"x": {"dtype": "F32", "shape": [2]}}, b"\0" * 8, None, "exactly"),
    ({"x": [1]}, b"", None, "exactly"),
    (good_entry(), b"\0" * 12, None, "cover 8 bytes of the 12"),  # trailing bytes
    ({**good_entry(), "y": {"dtype": "F32", "shape": [2], "data_offsets": [4, 12]}},
     b"\0" * 12, None, "gap or overlap"),
    ({"__metadata__": {"a": 1}}, b"", None, "__metadata__"),
    ({"__metadata__": {tio.STRUCTURE_KEY: "{oops"}}, b"", None, "structure"),
    ({"__metadata__": {tio.STRUCTURE_KEY: '{"array": "missing"}'}}, b"", None, "missing"),
    ({"__metadata__": {tio.STRUCTURE_KEY: '{"weird": 1}'}}, b"", None, "structure"),
    ({"__metadata__": {tio.STRUCTURE_KEY: "[" * 100000 + "]" * 100000}}, b"", None,
     "structure"),
    ({"__metadata__": {tio.STRUCTURE_KEY: '{"dict": [[[1], 2]]}'}}, b"", None, "unhashable"),
    ({**{"i": {"dtype": "I64", "shape": [], "data_offsets": [0, 8]}},
      "__metadata__": {tio.STRUCTURE_KEY: '{"tensor": "i", "requires_grad": true}'}},
     b"\0" * 8, None, "structure"),
])
def test_corrupt_files_raise_value_error(header, data, n, match, tmp_path):
    write_raw(tmp_path / "bad.st", header, data, n)
    with pytest.raises(ValueError, match=match):
        tn.load(tmp_path / "bad.st")


def test_missing_short_and_foreign_files(tmp_path):
    with pytest.raises(FileNotFoundError):
        tn.load(tmp_path / "nope.st")
    for raw in (b"", b"\x01\x02\x03"):
        (tmp_path / "short").write_bytes(raw)
        with pytest.raises(ValueError, match="not a safetensors file"):
            tn.load(tmp_path / "short")
    np.save(tmp_path / "a.npy", np.zeros((3, 3)))
    with zipfile.ZipFile(tmp_path / "a.zip", "w") as z:  # what torch.save writes
        z.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
    (tmp_path / "a.txt").write_text("hello world, this is not a checkpoint\n" * 10)
    for name in ("a.npy", "a.zip", "a.txt"):
        with pytest.raises(ValueError, match="not a safetensors file"):
            tn.load(tmp_path / name)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_files_load_or_raise_value_error(data, tmp_path):
    tn.save({"w": np.arange(5, dtype=np.float32), "s": {"step": 3}}, tmp_path / "ok.st")
    raw = bytearray((tmp_path / "ok.st").read_bytes())
    if data.draw(st.booleans(), "truncate"):
        raw = raw[:data.draw(st.integers(0, len(raw) - 1), "length")]
    else:
        for _ in range(data.draw(st.integers(1, 4), "flips")):
            raw[data.draw(st.integers(0, len(raw) - 1), "at")] = data.draw(st.integers(0, 255))
    (tmp_path / "m.st").write_bytes(bytes(raw))
    try:
        tn.load(tmp_path / "m.st")
    except ValueError:
        pass


# ----------------------------------------------------------------------------- atomicity


def fail_midway(fh, header, tensors):
    fh.write(b"partial bytes")
    raise OSError(28, "No space left on device")


@pytest.mark.parametrize("target_exists", [True, False])
def test_failed_write_leaves_no_file_and_old_one_intact(target_exists, tmp_path, monkeypatch):
    path = tmp_path / "model.st"
    if target_exists:
        tn.save({"w": np.ones(3)}, path)
    before = path.read_bytes() if target_exists else None
    monkeypatch.setattr(tio, "_write_payload", fail_midway)
    with pytest.raises(OSError, match="No space"):
        tn.save({"w": np.zeros(1000)}, path)
    assert os.listdir(tmp_path) == (["model.st"] if target_exists else [])
    if target_exists:
        assert path.read_bytes() == before
        assert_same(tn.load(path), {"w": np.ones(3)})


def test_failed_fsync_or_rename_cleans_up(tmp_path, monkeypatch):
    path = tmp_path / "m.st"
    tn.save({"v": 1}, path)
    before = path.read_bytes()

    def boom(*a):
        raise OSError("injected")
    for fn in ("fsync", "replace"):
        with monkeypatch.context() as m:
            m.setattr(tio.os, fn, boom)
            with pytest.raises(OSError, match="injected"):
                tn.save({"v": 2}, path)
        assert os.listdir(tmp_path) == ["m.st"] and path.read_bytes() == before
    (tmp_path / "d").mkdir()
    with pytest.raises(OSError):  # target is a directory: the rename fails
        tn.save({"v": 3}, tmp_path / "d")
    assert sorted(os.listdir(tmp_path)) == ["d", "m.st"] and os.listdir(tmp_path / "d") == []


KILL_CHILD = r"""
import sys, numpy as np, turbonn as tn
path = sys.argv[1]
k = 0
while True:
    k += 1
    state = {"version": k, "a": np.full(3_000_000, k, np.float32), "b": np.full((700, 1000), -k)}
    print("begin", k, flush=True)
    tn.save(state, path)
    print("saved", k, flush=True)
"""


def test_killed_save_never_leaves_a_partial_target(tmp_path):
    """A child saves 17 MB checkpoints in a loop and is SIGKILLed at random points, most of them
    mid-save. The target is always a whole checkpoint of a version the child had begun (the old
    one or the new one); what a kill can leave behind is only the hidden temporary."""
    import signal
    import subprocess
    import sys
    import time
    rng = np.random.default_rng(0)
    path = tmp_path / "ckpt.st"
    caught_mid_save = 0
    for round_ in range(6):
        child = subprocess.Popen([sys.executable, "-c", KILL_CHILD, str(path)],
                                 stdout=subprocess.PIPE, text=True)
        try:
            lines = []
            while True:  # wait until a save after the first one has begun
                lines.append(child.stdout.readline().split())
                if lines[-1][:1] == ["begin"] and int(lines[-1][1]) >= 2:
                    break
            time.sleep(float(rng.uniform(0.0, 0.03)))
            child.send_signal(signal.SIGKILL)
        finally:
            child.wait(timeout=60)
            child.stdout.close()
        got = tn.load(path)
        k = got["version"]
        assert k >= 1
        np.testing.assert_array_equal(got["a"], np.full(3_000_000, k, np.float32))
        np.testing.assert_array_equal(got["b"], np.full((700, 1000), -k))
        others = [n for n in os.listdir(tmp_path) if n != "ckpt.st"]
        assert all(n.startswith(".ckpt.st.") and n.endswith(".tmp") for n in others), others
        caught_mid_save += bool(others)
        for n in others:
            os.unlink(tmp_path / n)
    assert caught_mid_save >= 1, "no kill landed inside a save; the test did not test anything"


def test_successful_save_replaces_and_respects_umask(tmp_path):
    path = tmp_path / "m.st"
    tn.save({"v": np.zeros(2)}, str(path))
    tn.save({"v": np.ones(2)}, path)
    assert os.listdir(tmp_path) == ["m.st"]
    assert_same(tn.load(path), {"v": np.ones(2)})
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask


# ---------------------------------------------------------------------------- RNG state


def test_rng_state_round_trip():
    tn.manual_seed(4)
    tn.default_generator().random(3)
    state = tn.get_rng_state()
    a = tn.default_generator().random(5)
    tn.default_generator().random(7)
    tn.set_rng_state(state)
    assert np.array_equal(tn.default_generator().random(5), a)
    with pytest.raises(TypeError):
        tn.set_rng_state([1, 2])
    with pytest.raises(ValueError, match="bit generator"):
        tn.set_rng_state({"bit_generator": "MT19937", "state": {}})
    with pytest.raises(ValueError, match="invalid state"):
        tn.set_rng_state({"bit_generator": "PCG64", "state": {"state": "x"}})


# --------------------------------------------------------------------------- resumed run


def make_run():
    model = nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 1))
    return model, tn.optim.Adam(model.parameters(), lr=0.01)


def train_epochs(model, opt, data, epochs):
    tn.fit(model, nn.MSELoss(), opt, data, epochs=epochs, batch_size=8, shuffle=True, verbose=0)


@pytest.mark.parametrize("restore_rng", [True, False])
def test_resumed_run_is_bit_identical(restore_rng, tmp_path):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((60, 5)).astype(np.float32)
    data = (x, (x @ rng.standard_normal((5, 1)) + 0.1).astype(np.float32))

    tn.manual_seed(0)
    model, opt = make_run()
    train_epochs(model, opt, data, 4)
    uninterrupted = model.state_dict()

    tn.manual_seed(0)
    model, opt = make_run()
    train_epochs(model, opt, data, 2)
    tn.save({"model": model.state_dict(), "optimizer": opt.state_dict(),
             "rng": tn.get_rng_state(), "epoch": 2}, tmp_path / "ckpt.st")
    del model, opt

    tn.manual_seed(1234)  # a fresh process would start from another state
    model, opt = make_run()
    ckpt = tn.load(tmp_path / "ckpt.st")
    model.load_state_dict(ckpt["model"])
    opt.load_state_dict(ckpt["optimizer"])
    if restore_rng:
        tn.set_rng_state(ckpt["rng"])
    train_epochs(model, opt, data, 4 - ckpt["epoch"])
    resumed = model.state_dict()
    identical = all(np.array_equal(uninterrupted[k], resumed[k]) for k in uninterrupted)
    assert identical == restore_rng  # without the RNG state the shuffles differ
