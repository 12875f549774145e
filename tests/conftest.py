"""Shared fixtures for the turbonn test suite: kernel variants, a seeded RNG, float64 oracles,
and an autouse guard that restores the global ISA and thread settings after every test."""
from __future__ import annotations

import math
import os
import subprocess
import sys

import numpy as np
import pytest

import turbonn as tn
from turbonn import _core

# Every variant the library knows; ones this CPU/build lacks are skipped with a visible reason
# (pytest -ra lists them), never dropped from the parametrisation.
ALL_ISAS = ("generic", "avx2", "avx512")
SUPPORTED_ISAS = tuple(_core.supported_isas())
ALL_VARIANTS = ("ref",) + ALL_ISAS

# Blocking constants of each variant, read from the build (csrc/cpu/gemm_config.h).
BLOCKING = {
    isa: {k: v for k, v in _core._gemm_kernel_info(isa).items() if k != "name"}
    for isa in SUPPORTED_ISAS
}
KERNEL_NAMES = {isa: _core._gemm_kernel_info(isa)["name"] for isa in SUPPORTED_ISAS}

# float32 GEMM error against the float64 result, relative to alpha*|op(a)|@|op(b)| + |beta*out|.
RTOL = 1e-5


def pytest_addoption(parser):
    parser.addoption("--fuzz", action="store_true",
                     help="run the binding fuzz suites (tests/test_fuzz_*.py) at >= 1,000 cases "
                          "per op family with fresh random seeds (CI runs a few hundred, fixed)")
    parser.addoption("--fuzz-report", default=None, metavar="PATH",
                     help="write the fuzz outcome counts per family to PATH as JSON")


def pytest_configure(config):
    # fuzz_support reads this at import, before the fuzz modules build their settings
    if config.getoption("--fuzz"):
        os.environ["TURBONN_FUZZ"] = "1"


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    import fuzz_support
    lines = fuzz_support.summary_lines()
    if not lines:
        return
    terminalreporter.section("fuzz cases by op family and outcome")
    for line in lines:
        terminalreporter.write_line(line)
    if config.getoption("--fuzz-report"):
        fuzz_support.write_report(config.getoption("--fuzz-report"))


def pytest_sessionfinish(session, exitstatus):
    import fuzz_support
    if session.config.getoption("--fuzz") and fuzz_support.OUTCOMES and exitstatus == 0:
        short = fuzz_support.short_families()
        if short:
            session.config.pluginmanager.get_plugin("terminalreporter").write_line(
                f"--fuzz: fewer than {fuzz_support.FUZZ_MIN_PER_FAMILY} cases in: "
                + ", ".join(sorted(short)), red=True)
            session.exitstatus = 1


def require_variant(name: str) -> str:
    if name != "ref" and name not in SUPPORTED_ISAS:
        pytest.skip(f"variant {name!r} is not supported on this CPU/build "
                    f"(supported: {', '.join(SUPPORTED_ISAS)})")
    return name


@pytest.fixture(params=ALL_VARIANTS)
def variant(request) -> str:
    """Every kernel: the plain-loop reference and each ISA variant."""
    return require_variant(request.param)


@pytest.fixture(params=ALL_ISAS)
def fast_variant(request) -> str:
    """Every packed (non-reference) kernel variant."""
    return require_variant(request.param)


@pytest.fixture(params=ALL_ISAS)
def isa(request) -> str:
    """Each CPU variant, forced with _set_isa for the test (the autouse fixture restores it)."""
    _core._set_isa(require_variant(request.param))
    return request.param


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20240607)


@pytest.fixture(autouse=True)
def _restore_runtime_state():
    """Tests may force an ISA or a thread count; put both back so tests stay independent."""
    isa, threads = _core.active_isa(), tn.get_num_threads()
    yield
    _core._set_isa(isa)
    tn.set_num_threads(threads)


def randn(rng: np.random.Generator, shape, dtype=np.float32) -> np.ndarray:
    return rng.standard_normal(shape).astype(dtype)


def op(x: np.ndarray, trans: bool) -> np.ndarray:
    return x.T if trans else x


def stored_shape(rows: int, cols: int, trans: bool) -> tuple[int, int]:
    """Shape of the array to pass so that op(x) is (rows, cols)."""
    return (cols, rows) if trans else (rows, cols)


def gemm_expected(a, b, *, trans_a=False, trans_b=False, alpha=1.0, beta=0.0, out=None):
    """float64 oracle of ``alpha*op(a)@op(b) + beta*out`` and the per-element error scale.

    Returns ``(expected, scale)``; a float32 result is right when
    ``|got - expected| <= RTOL * scale`` (see :func:`assert_gemm_close`). ``out`` is read only
    when ``beta != 0`` (BLAS semantics). Pass the original ``out`` (a copy when aliasing).
    """
    A = op(np.asarray(a, dtype=np.float64), trans_a)
    B = op(np.asarray(b, dtype=np.float64), trans_b)
    M, K = A.shape
    N = B.shape[1]
    exp = alpha * (A @ B) if K else np.zeros((M, N))
    scale = abs(alpha) * (np.abs(A) @ np.abs(B)) if K else np.zeros((M, N))
    if beta != 0.0:
        C = np.asarray(out, dtype=np.float64)
        exp = exp + beta * C
        scale = scale + abs(beta) * np.abs(C)
    return exp, scale


def gemm_tolerance(a, b, *, trans_a=False, trans_b=False, alpha=1.0, beta=0.0, out=None,
                   rtol=RTOL):
    """``(expected, tol)``: the float64 oracle and the per-element float32 error budget."""
    exp, scale = gemm_expected(a, b, trans_a=trans_a, trans_b=trans_b, alpha=alpha, beta=beta,
                               out=out)
    K = op(a, trans_a).shape[1]
    # Errors grow ~sqrt(K) in float32; the floor keeps small K strict.
    return exp, rtol * max(1.0, math.sqrt(K) / 8) * scale + 1e-30


def assert_within(got, exp, tol, what=""):
    """``|got - exp| <= tol`` elementwise (NaN in got fails), with a readable first mismatch."""
    assert isinstance(got, np.ndarray), what
    assert got.dtype == np.float32, what
    assert got.shape == exp.shape, f"{what}: shape {got.shape} != {exp.shape}"
    err = np.abs(got.astype(np.float64) - exp)
    bad = ~(err <= tol)  # also catches NaN
    if bad.any():
        i, j = np.argwhere(bad)[0]
        raise AssertionError(
            f"{what}: {int(bad.sum())} of {bad.size} elements off; first at ({i}, {j}): "
            f"got {got[i, j]!r}, expected {exp[i, j]!r}, tol {tol[i, j]:.3g}")


def assert_gemm_close(got, a, b, *, trans_a=False, trans_b=False, alpha=1.0, beta=0.0, out=None,
                      rtol=RTOL, what=""):
    """Compare a float32 gemm result with the float64 oracle, scaled by input magnitudes."""
    exp, tol = gemm_tolerance(a, b, trans_a=trans_a, trans_b=trans_b, alpha=alpha, beta=beta,
                              out=out, rtol=rtol)
    assert_within(got, exp, tol, what)


def run_python(code: str, env_update: dict | None = None, timeout: float = 120):
    """Run ``code`` in a fresh interpreter (sys.executable) and return the CompletedProcess."""
    env = dict(os.environ)
    for k, v in (env_update or {}).items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          timeout=timeout)
