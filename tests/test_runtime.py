"""Runtime controls: set/get_num_threads (and OMP_NUM_THREADS), show_config, the CPU variant
queries and the TURBONN_CPU environment variable (checked in fresh interpreters)."""
from __future__ import annotations

import io
import re
import sys
import textwrap

import numpy as np
import pytest

import turbonn as tn
from conftest import KERNEL_NAMES, randn, run_python
from turbonn import _core

# --------------------------------------------------------------------------------------------
# Threads


@pytest.mark.parametrize("n", [1, 2, 3, 7])
def test_set_get_num_threads(n):
    tn.set_num_threads(n)
    expected = n if _core.build_info()["openmp"] else 1  # a serial build always runs 1 thread
    assert tn.get_num_threads() == expected
    assert _core.get_num_threads() == expected


def test_initial_threads_positive():
    assert isinstance(tn.get_num_threads(), int) and tn.get_num_threads() >= 1


@pytest.mark.parametrize("n", [0, -1, -100])
def test_set_num_threads_non_positive(n):
    before = tn.get_num_threads()
    with pytest.raises(ValueError, match=r"set_num_threads: n must be a positive integer"):
        tn.set_num_threads(n)
    assert tn.get_num_threads() == before


@pytest.mark.parametrize("n", [2.0, "2", None, True, False, [2], np.float32(2)])
def test_set_num_threads_non_int(n):
    before = tn.get_num_threads()
    with pytest.raises(TypeError, match=r"set_num_threads: n must be an int"):
        tn.set_num_threads(n)
    assert tn.get_num_threads() == before


def test_more_threads_than_cores_still_correct(rng):
    tn.set_num_threads(8)
    a, b = randn(rng, (300, 200)), randn(rng, (200, 400))
    r8 = tn.ops.gemm(a, b)
    tn.set_num_threads(1)
    np.testing.assert_array_equal(r8, tn.ops.gemm(a, b))


@pytest.mark.parametrize("omp", ["1", "3", "5"])
def test_omp_num_threads_sets_initial_count(omp):
    proc = run_python("import turbonn as tn; print(tn.get_num_threads())",
                      {"OMP_NUM_THREADS": omp})
    assert proc.returncode == 0, proc.stderr
    expected = int(omp) if _core.build_info()["openmp"] else 1
    assert int(proc.stdout.strip()) == expected


def test_set_num_threads_in_fresh_process_overrides_env():
    code = "import turbonn as tn; tn.set_num_threads(2); print(tn.get_num_threads())"
    proc = run_python(code, {"OMP_NUM_THREADS": "5"})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ("2" if _core.build_info()["openmp"] else "1")


@pytest.mark.skipif(not sys.platform.startswith("linux") or _core.build_info()["sanitize"],
                    reason="glibc's mallopt (a sanitizer's allocator replaces it)")
def test_malloc_tuning_is_on_by_default_and_can_be_turned_off():
    code = ("import turbonn as tn, turbonn._core as c; print(c.build_info()['malloc_tuned']); "
            "tn.show_config()")
    on = run_python(code, {})
    off = run_python(code, {"TURBONN_TUNE_MALLOC": "0"})
    assert on.returncode == 0 and off.returncode == 0, on.stderr + off.stderr
    assert on.stdout.startswith("True") and "keeps freed memory" in on.stdout
    assert off.stdout.startswith("False") and "C library defaults" in off.stdout


# --------------------------------------------------------------------------------------------
# show_config


def test_show_config_stdout(capsys):
    tn.show_config()
    text = capsys.readouterr().out
    lines = text.splitlines()
    assert lines[0] == f"turbonn {tn.__version__}"
    for key in ("compiler:", "CPU variants:", "CPU variant:", "GEMM kernel:", "OpenMP:", "CUDA:"):
        assert any(line.strip().startswith(key) for line in lines), f"{key!r} missing:\n{text}"
    for isa in _core.supported_isas():
        assert isa in text
    assert f"{_core.active_isa()} (chosen" in text
    assert KERNEL_NAMES[_core.active_isa()] in text


def test_show_config_file_argument_and_threads(capsys):
    tn.set_num_threads(3)
    buf = io.StringIO()
    tn.show_config(file=buf)
    assert capsys.readouterr().out == ""  # nothing on stdout when file= is given
    text = buf.getvalue()
    openmp = _core.build_info()["openmp"]
    assert re.search(r"OpenMP:\s+on, 3 threads" if openmp else r"OpenMP:\s+off", text), text


def test_show_config_reflects_forced_variant():
    for isa in _core.supported_isas():
        _core._set_isa(isa)   # restored by the autouse fixture
        buf = io.StringIO()
        tn.show_config(file=buf)
        text = buf.getvalue()
        assert re.search(rf"CPU variant:\s+{isa} \(chosen", text), text
        assert re.search(rf"GEMM kernel:\s+{KERNEL_NAMES[isa]}", text), text


def test_version_matches_build_info():
    info = _core.build_info()
    assert tn.__version__ == info["version"]
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", tn.__version__)
    assert isinstance(info["compiler"], str) and info["compiler"]
    assert info["cuda_kernels"] is False


# --------------------------------------------------------------------------------------------
# CPU variants


def test_supported_and_active_isa():
    supported = _core.supported_isas()
    assert supported[0] == "generic"
    assert set(supported) <= {"generic", "avx2", "avx512"}
    assert _core.active_isa() in supported
    for isa in supported:
        _core._set_isa(isa)
        assert _core.active_isa() == isa


def test_default_variant_is_best_supported():
    proc = run_python("from turbonn import _core; print(_core.active_isa())",
                      {"TURBONN_CPU": None})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == _core.supported_isas()[-1]


def test_empty_turbonn_cpu_means_default():
    proc = run_python("from turbonn import _core; print(_core.active_isa())", {"TURBONN_CPU": ""})
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == _core.supported_isas()[-1]


@pytest.mark.parametrize("isa", ["generic", "avx2", "avx512"])
def test_turbonn_cpu_env(isa):
    code = textwrap.dedent("""
        import io, turbonn as tn
        from turbonn import _core
        buf = io.StringIO(); tn.show_config(file=buf)
        print(_core.active_isa()); print(buf.getvalue())
    """)
    proc = run_python(code, {"TURBONN_CPU": isa})
    if isa in _core.supported_isas():
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.splitlines()[0] == isa
        assert KERNEL_NAMES[isa] in proc.stdout
    else:  # a variant this CPU cannot run fails the import with the reason
        assert proc.returncode != 0
        assert "ImportError" in proc.stderr and "TURBONN_CPU" in proc.stderr


@pytest.mark.parametrize("value", ["sse4", "avx-512", "1", "ref", "generic,avx2"])
def test_bad_turbonn_cpu_fails_import(value):
    proc = run_python(textwrap.dedent("""
        try:
            import turbonn
        except ImportError as e:
            print("ImportError:", e)
        else:
            print("imported")
    """), {"TURBONN_CPU": value})
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout.strip()
    assert out.startswith("ImportError:"), out
    assert "TURBONN_CPU" in out and value in out, out


def test_thread_count_beyond_what_os_grants_does_not_kill_interpreter():
    """set_num_threads accepts any positive n; a gemm must then still finish (with fewer threads)
    or raise a Python exception, never abort the process. The child caps its address space so
    that creating hundreds of threads (8 MiB stacks) fails deterministically; with 2 threads the
    same gemm runs fine under the same cap."""
    if _core.build_info()["sanitize"]:
        pytest.skip("ASan reserves terabytes of address space: RLIMIT_AS cannot be capped")
    code = textwrap.dedent("""
        import resource, sys
        import numpy as np, turbonn as tn
        resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))
        a = np.ones((1024, 1024), np.float32)
        for n in (2, 1000):
            tn.set_num_threads(n)
            try:
                c = tn.ops.gemm(a, a)
                print(n, "result", c[0, 0], c[-1, -1], flush=True)
            except Exception as e:
                print(n, "exception", type(e).__name__, flush=True)
    """)
    proc = run_python(code)
    lines = proc.stdout.splitlines()
    assert lines[:1] == ["2 result 1024.0 1024.0"], (proc.stdout, proc.stderr)
    assert proc.returncode == 0, (
        f"interpreter died (rc={proc.returncode}) after set_num_threads(1000) + gemm: "
        f"{proc.stderr.strip()[-300:]}")
    assert len(lines) == 2 and (lines[1] == "1000 result 1024.0 1024.0"
                                or lines[1].startswith("1000 exception")), proc.stdout
