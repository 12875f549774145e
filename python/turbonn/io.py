"""Checkpoints: ``save``/``load`` in the safetensors file format, written and read with NumPy only
(the RNG state to put in one comes from ``turbonn.get_rng_state``). Not a pickle: a file holds
arrays and JSON, so loading an untrusted checkpoint runs no code.

File layout (https://github.com/huggingface/safetensors): an 8-byte little-endian header length
``n``, ``n`` bytes of JSON mapping tensor name -> ``{"dtype", "shape", "data_offsets"}`` (offsets
relative to the data buffer that follows) plus an optional ``"__metadata__"`` dict of str -> str,
then the little-endian, C-contiguous tensor bytes. A nested object (``{"model": sd, "optimizer":
opt.state_dict(), "epoch": 3}``) is stored with dotted tensor names (``model.0.weight``) and a JSON
skeleton of everything else under the metadata key ``turbonn.structure``, so ``load`` rebuilds the
same nesting and types; other safetensors readers see the plain name -> array mapping.
"""
from __future__ import annotations

import json
import math
import numbers
import os
import secrets
from collections import OrderedDict
from collections.abc import Mapping

import numpy as np

from .tensor import Tensor

__all__ = ["save", "load", "load_metadata"]

STRUCTURE_KEY = "turbonn.structure"
MAX_HEADER_BYTES = 100_000_000  # the reference implementation's limit
_ALIGN = 8  # header padded with spaces so the data buffer starts 8-byte aligned

_DTYPES = {  # safetensors name -> little-endian NumPy dtype
    "BOOL": np.dtype("|b1"), "U8": np.dtype("|u1"), "I8": np.dtype("|i1"),
    "I16": np.dtype("<i2"), "U16": np.dtype("<u2"), "F16": np.dtype("<f2"),
    "I32": np.dtype("<i4"), "U32": np.dtype("<u4"), "F32": np.dtype("<f4"),
    "I64": np.dtype("<i8"), "U64": np.dtype("<u8"), "F64": np.dtype("<f8"),
}
_NAMES = {(dt.kind, dt.itemsize): name for name, dt in _DTYPES.items()}
_BF16 = "BF16"  # NumPy has no bfloat16: read (exactly) as float32, never written


# ------------------------------------------------------------------------------ serialising


class _Encoder:
    """Walks ``obj`` once: arrays go to ``self.tensors`` (name -> array), everything else into a
    JSON skeleton. Every JSON object in the skeleton is a tag, so plain values never collide."""

    def __init__(self):
        self.tensors: dict[str, np.ndarray] = {}
        self._active: set[int] = set()

    def _name(self, path: str) -> str:
        base = path or "tensor"
        name, k = base, 1
        while name in self.tensors:  # {"a.b": x, "a": {"b": y}} both flatten to "a.b"
            name, k = f"{base}#{k}", k + 1
        return name

    def _array(self, arr: np.ndarray, path: str) -> str:
        dt = arr.dtype
        if (dt.kind, dt.itemsize) not in _NAMES:
            raise TypeError(f"save: cannot store an array of dtype {dt} at {path or 'top level'!r}"
                            f" (supported: bool, int8-64, uint8-64, float16/32/64)")
        name = self._name(path)
        # asarray keeps 0-d arrays 0-d (ascontiguousarray would make them 1-d)
        self.tensors[name] = np.asarray(arr, dtype=_DTYPES[_NAMES[dt.kind, dt.itemsize]],
                                        order="C")
        return name

    def encode(self, obj, path: str = ""):
        if isinstance(obj, Tensor):
            node = {"tensor": self._array(obj.data, path)}
            if obj.requires_grad:
                node["requires_grad"] = True
            return node
        if isinstance(obj, np.ndarray):
            return {"array": self._array(obj, path)}
        if isinstance(obj, np.generic):  # before float: np.float64 is a float subclass
            return {"npscalar": self._array(np.asarray(obj), path)}
        if obj is None or isinstance(obj, (bool, str)):
            return obj
        if isinstance(obj, numbers.Integral):
            return int(obj)
        if isinstance(obj, float):
            return obj if math.isfinite(obj) else {"float": repr(obj)}
        if isinstance(obj, (Mapping, list, tuple)):
            if id(obj) in self._active:
                raise ValueError(f"save: {path or 'the object'!r} contains itself")
            self._active.add(id(obj))
            try:
                return self._container(obj, path)
            finally:
                self._active.discard(id(obj))
        raise TypeError(f"save: cannot store a value of type {type(obj).__name__} at "
                        f"{path or 'top level'!r} (arrays, Tensors, dicts, lists, tuples, "
                        f"str, int, float, bool and None are supported)")

    def _container(self, obj, path: str):
        join = (lambda seg: f"{path}.{seg}") if path else str
        if isinstance(obj, Mapping):
            items = [[self.key(k, path), self.encode(v, join(k))] for k, v in obj.items()]
            return {"odict" if isinstance(obj, OrderedDict) else "dict": items}
        items = [self.encode(v, join(i)) for i, v in enumerate(obj)]
        return items if isinstance(obj, list) else {"tuple": items}

    def key(self, k, path: str):
        if isinstance(k, np.generic):
            k = k.item()
        if k is None or isinstance(k, (str, bool, numbers.Integral, float)):
            return self.encode(k, path)
        if isinstance(k, tuple):
            return {"tuple": [self.key(x, path) for x in k]}
        raise TypeError(f"save: dict key {k!r} at {path or 'top level'!r} has type "
                        f"{type(k).__name__} (str, int, float, bool, None or tuples of them)")


def _header(tensors: dict, metadata: dict) -> bytes:
    header, offset = {}, 0
    for name, arr in tensors.items():
        header[name] = {"dtype": _NAMES[arr.dtype.kind, arr.dtype.itemsize],
                        "shape": list(arr.shape), "data_offsets": [offset, offset + arr.nbytes]}
        offset += arr.nbytes
    header["__metadata__"] = metadata
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    return raw + b" " * (-len(raw) % _ALIGN)


def _write_payload(fh, header: bytes, tensors: dict) -> None:
    fh.write(len(header).to_bytes(8, "little"))
    fh.write(header)
    for arr in tensors.values():
        if arr.size:
            fh.write(arr.reshape(-1).view(np.uint8))


def _open_temp(directory: str, base: str):
    """A fresh file beside the target (same filesystem, so os.replace is atomic); created with
    mode 0o666 so the umask applies as for any new file."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        tmp = os.path.join(directory, f".{base}.{secrets.token_hex(6)}.tmp")
        try:
            return tmp, os.open(tmp, flags, 0o666)
        except FileExistsError:
            continue


def _fsync_dir(directory: str) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:  # e.g. Windows cannot open directories; the rename is still atomic
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def save(obj, f, metadata: Mapping | None = None) -> None:
    """Write ``obj`` (a state_dict, or nested dicts/lists/tuples of arrays, Tensors and plain
    values) to ``f`` (a path, or a binary file object) as a safetensors file.

    ``metadata`` adds str -> str entries to the header (read back with ``load_metadata``).
    A path is written atomically: to a temporary file in the same directory, flushed and
    fsync'd, then renamed over the target; on any error the temporary is removed and an
    existing file is left untouched. Everything is validated before the disk is touched.
    """
    meta: dict[str, str] = {}
    if metadata is not None:
        if not isinstance(metadata, Mapping) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
            raise TypeError("save: metadata must be a dict of str -> str")
        if STRUCTURE_KEY in metadata:
            raise ValueError(f"save: metadata key {STRUCTURE_KEY!r} is reserved")
        meta.update(metadata)
    enc = _Encoder()
    meta[STRUCTURE_KEY] = json.dumps(enc.encode(obj), separators=(",", ":"))
    header = _header(enc.tensors, meta)
    if len(header) > MAX_HEADER_BYTES:
        raise ValueError(f"save: header of {len(header)} bytes exceeds the format's limit of "
                         f"{MAX_HEADER_BYTES} (too many tensors or too much metadata)")
    if hasattr(f, "write"):
        _write_payload(f, header, enc.tensors)
        return
    path = _path(f, "save")
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"save: the directory of {path!r} does not exist")
    tmp, fd = _open_temp(directory, os.path.basename(path))
    try:
        with os.fdopen(fd, "wb") as fh:
            _write_payload(fh, header, enc.tensors)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    _fsync_dir(directory)


# -------------------------------------------------------------------------------- reading


def _no_duplicates(pairs):
    out = {}
    for k, v in pairs:
        if k in out:
            raise ValueError(f"duplicate key {k!r}")
        out[k] = v
    return out


def _is_int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def _read_header(fh, what: str):
    """Validated ``(entries, metadata, data_start)``: every offset inside the file, the tensors
    tiling the data buffer exactly (as the reference implementation requires)."""
    fh.seek(0, os.SEEK_END)
    size = fh.tell()
    fh.seek(0)
    if size < 8:
        raise ValueError(f"{what}: not a safetensors file ({size} bytes, shorter than the "
                         f"8-byte header length)")
    n = int.from_bytes(fh.read(8), "little")
    if n > MAX_HEADER_BYTES:
        raise ValueError(f"{what}: not a safetensors file, or corrupt: header length {n} "
                         f"exceeds the {MAX_HEADER_BYTES}-byte limit")
    if n < 2 or 8 + n > size:
        raise ValueError(f"{what}: truncated or not a safetensors file: header length {n} but "
                         f"the file has {size} bytes")
    raw = fh.read(n)
    try:
        header = json.loads(raw.decode("utf-8"), object_pairs_hook=_no_duplicates)
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        raise ValueError(f"{what}: not a safetensors file, or corrupt: header is not valid "
                         f"JSON ({e})") from None
    if not isinstance(header, dict):
        raise ValueError(f"{what}: corrupt safetensors header: expected a JSON object, got "
                         f"{type(header).__name__}")
    metadata = header.pop("__metadata__", None) or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise ValueError(f"{what}: corrupt safetensors header: __metadata__ must map str -> str")
    buffer_len = size - 8 - n
    entries = []
    for name, info in header.items():
        bad = f"{what}: corrupt safetensors header entry {name!r}"
        if not isinstance(info, dict) or set(info) != {"dtype", "shape", "data_offsets"}:
            raise ValueError(f"{bad}: expected exactly dtype, shape and data_offsets")
        dtype, shape, offsets = info["dtype"], info["shape"], info["data_offsets"]
        if dtype != _BF16 and dtype not in _DTYPES:
            raise ValueError(f"{bad}: unsupported dtype {dtype!r} (supported: "
                             f"{', '.join(sorted(_DTYPES))}, BF16)")
        if not isinstance(shape, list) or not all(_is_int(d) and d >= 0 for d in shape):
            raise ValueError(f"{bad}: shape {shape!r} is not a list of non-negative ints")
        if not (isinstance(offsets, list) and len(offsets) == 2 and all(map(_is_int, offsets))
                and 0 <= offsets[0] <= offsets[1] <= buffer_len):
            raise ValueError(f"{bad}: data_offsets {offsets!r} out of bounds of the "
                             f"{buffer_len}-byte data buffer (file truncated?)")
        itemsize = 2 if dtype == _BF16 else _DTYPES[dtype].itemsize
        if offsets[1] - offsets[0] != math.prod(shape) * itemsize:
            raise ValueError(f"{bad}: data_offsets {offsets} hold {offsets[1] - offsets[0]} "
                             f"bytes, shape {shape} of {dtype} needs "
                             f"{math.prod(shape) * itemsize}")
        entries.append((name, dtype, tuple(shape), offsets[0], offsets[1]))
    end = 0
    for name, _, _, begin, stop in sorted(entries, key=lambda e: (e[3], e[4])):
        if begin != end:
            raise ValueError(f"{what}: corrupt safetensors file: tensor {name!r} starts at "
                             f"byte {begin}, expected {end} (gap or overlap in the data buffer)")
        end = stop
    if end != buffer_len:
        raise ValueError(f"{what}: corrupt safetensors file: tensors cover {end} bytes of the "
                         f"{buffer_len}-byte data buffer")
    return entries, metadata, 8 + n


def _read_tensor(fh, start: int, dtype: str, shape: tuple, begin: int, what: str, name: str):
    arr = np.empty(shape, np.uint16 if dtype == _BF16 else _DTYPES[dtype])
    nbytes = arr.nbytes
    if nbytes:
        fh.seek(start + begin)
        view = memoryview(arr.reshape(-1).view(np.uint8))
        got = 0
        while got < nbytes:
            k = fh.readinto(view[got:])
            if not k:
                raise ValueError(f"{what}: truncated while reading tensor {name!r}")
            got += k
    if dtype == _BF16:  # bfloat16 is the top half of a float32: widening is exact
        arr = (arr.astype(np.uint32) << 16).view(np.float32)
    return arr.astype(arr.dtype.newbyteorder("="), copy=False)


def _decode(node, tensors: dict, what: str):
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    if isinstance(node, list):
        return [_decode(x, tensors, what) for x in node]
    if isinstance(node, dict) and len(node) in (1, 2):
        tag, value = next(iter(node.items()))
        if tag in ("array", "tensor", "npscalar"):
            if not isinstance(value, str) or value not in tensors:
                raise ValueError(f"{what}: structure refers to a missing tensor {value!r}")
            arr = tensors[value]
            if tag == "array":
                return arr
            if tag == "npscalar":
                return arr[()]
            return Tensor(arr, requires_grad=bool(node.get("requires_grad", False)))
        if tag in ("dict", "odict") and isinstance(value, list) and len(node) == 1:
            out = OrderedDict() if tag == "odict" else {}
            for item in value:
                if not (isinstance(item, list) and len(item) == 2):
                    raise ValueError(f"{what}: corrupt structure: bad dict item {item!r}")
                out[_decode(item[0], tensors, what)] = _decode(item[1], tensors, what)
            return out
        if tag == "tuple" and isinstance(value, list) and len(node) == 1:
            return tuple(_decode(x, tensors, what) for x in value)
        if tag == "float" and value in ("nan", "inf", "-inf") and len(node) == 1:
            return float(value)
    raise ValueError(f"{what}: corrupt structure metadata near {str(node)[:80]!r}")


def _path(f, fn: str) -> str:
    """``f`` as a filesystem path, or a TypeError naming the argument."""
    try:
        return os.fspath(f)
    except TypeError:
        raise TypeError(f"{fn}: f must be a path (str, bytes or os.PathLike) or a binary file "
                        f"object, got {type(f).__name__}") from None


def _open_for_read(f):
    if hasattr(f, "read"):
        return f, False, "load"
    path = _path(f, "load")
    return open(path, "rb"), True, f"load({path!r})"


def load(f):
    """Read a safetensors file written by ``save`` (the same nesting and types come back, arrays
    as NumPy arrays) or by any other safetensors writer (a dict name -> array, file order).

    A missing file raises FileNotFoundError; a file that is not a well-formed safetensors file
    raises ValueError, and nothing outside the file's bounds is ever read. BF16 tensors are
    widened to float32 (NumPy has no bfloat16).
    """
    fh, close, what = _open_for_read(f)
    try:
        entries, metadata, start = _read_header(fh, what)
        tensors = {name: _read_tensor(fh, start, dtype, shape, begin, what, name)
                   for name, dtype, shape, begin, _ in entries}
    finally:
        if close:
            fh.close()
    if STRUCTURE_KEY not in metadata:
        return tensors
    try:
        skeleton = json.loads(metadata[STRUCTURE_KEY])
    except (ValueError, RecursionError) as e:
        raise ValueError(f"{what}: corrupt structure metadata ({e})") from None
    try:
        return _decode(skeleton, tensors, what)
    except (RecursionError, TypeError, RuntimeError) as e:  # too deep, unhashable key, a
        # requires_grad Tensor of integers: only a hand-made header gets here
        raise ValueError(f"{what}: corrupt structure metadata ({type(e).__name__}: {e})") \
            from None


def load_metadata(f) -> dict:
    """The header's ``__metadata__`` (str -> str) without reading any tensor data."""
    fh, close, what = _open_for_read(f)
    try:
        return dict(_read_header(fh, what)[1])
    finally:
        if close:
            fh.close()

