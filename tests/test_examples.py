"""The examples end to end, as a user runs them: each must reach the accuracy its docstring
promises (>= 95% test accuracy). Skipped when an example's data or extra package is absent."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
MNIST = ROOT.parent / "shared" / "data" / "mnist_5k.csv.gz"


def _example(name: str):
    if str(ROOT / "examples") not in sys.path:  # as `python examples/<name>.py` would have it
        sys.path.insert(0, str(ROOT / "examples"))
    spec = importlib.util.spec_from_file_location(f"example_{name}", ROOT / "examples" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_mlp_breast_cancer_reaches_95_percent(capsys):
    pytest.importorskip("sklearn")
    acc = _example("mlp_breast_cancer").main(["--verbose", "0", "--seed", "0"])
    out = capsys.readouterr().out
    assert "ms per epoch" in out
    assert acc >= 0.95, out


def test_mlp_mnist_reaches_95_percent(tmp_path, capsys):
    if not MNIST.is_file():
        pytest.skip(f"no MNIST sample at {MNIST}")
    acc = _example("mlp_mnist").main([str(MNIST), "--verbose", "0", "--out-dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert "time per epoch" in out
    assert (tmp_path / "mlp_mnist.safetensors").is_file()
    assert acc >= 0.95, out


def test_cnn_mnist_reaches_97_percent(tmp_path, capsys):
    if not MNIST.is_file():
        pytest.skip(f"no MNIST sample at {MNIST}")
    acc = _example("cnn_mnist").main([str(MNIST), "--no-torch", "--verbose", "0",
                                      "--out-dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert "time per epoch" in out
    assert "torch" not in out.replace("turbonn", "")
    assert acc >= 0.97, out


def test_cnn_mnist_digits_fallback_trains(tmp_path, capsys):
    pytest.importorskip("sklearn")
    acc = _example("cnn_mnist").main([str(tmp_path / "absent.csv.gz"), "--no-torch",
                                      "--epochs", "3", "--verbose", "0",
                                      "--out-dir", str(tmp_path)])
    out = capsys.readouterr().out
    assert "8x8 digits" in out and "360 test images" in out
    assert acc >= 0.6, out  # chance is 0.1; 3 epochs reach ~0.9
