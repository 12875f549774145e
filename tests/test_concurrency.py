"""tn.ops.gemm from several Python threads at once: bit-identical to the serial results on
shared and separate inputs, and the GIL is released while a kernel runs."""
from __future__ import annotations

import sys
import threading
import time

import numpy as np
import pytest

import turbonn as tn
from conftest import assert_gemm_close, randn
from turbonn import _core

N_THREADS = 4


def run_in_threads(jobs, repeats=3):
    """Run each job (a no-arg callable) ``repeats`` times in its own thread, all started together.
    Returns per-job lists of results; re-raises the first exception from any thread."""
    barrier = threading.Barrier(len(jobs))
    results = [[] for _ in jobs]
    errors = []

    def worker(i, job):
        try:
            barrier.wait(timeout=30)
            for _ in range(repeats):
                results[i].append(job())
        except BaseException as e:  # noqa: BLE001 - reported to the main thread
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(i, j)) for i, j in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
        assert not t.is_alive(), "a gemm thread hung"
    if errors:
        raise errors[0]
    return results


@pytest.mark.parametrize("kernel_threads", [1, 2])
def test_concurrent_calls_on_different_inputs(rng, kernel_threads):
    tn.set_num_threads(kernel_threads)
    # Big, skinny-M (per-thread paths differ when M is split), mid-size and tiny problems.
    shapes = [(257, 129, 385), (24, 32, 3000), (96, 481, 50), (5, 7, 9)]
    problems = []
    for i, (M, N, K) in enumerate(shapes):
        ta, tb = bool(i & 1), bool(i & 2)
        a = randn(rng, (K, M) if ta else (M, K))
        b = randn(rng, (N, K) if tb else (K, N))
        problems.append((a, b, ta, tb))
    serial = [tn.ops.gemm(a, b, trans_a=ta, trans_b=tb) for a, b, ta, tb in problems]
    jobs = [(lambda p=p: tn.ops.gemm(p[0], p[1], trans_a=p[2], trans_b=p[3])) for p in problems]
    results = run_in_threads(jobs)
    for i, (res_list, expected) in enumerate(zip(results, serial)):
        a, b, ta, tb = problems[i]
        assert_gemm_close(expected, a, b, trans_a=ta, trans_b=tb)
        for r in res_list:
            np.testing.assert_array_equal(r, expected, err_msg=f"problem {i}")


@pytest.mark.parametrize("kernel_threads", [1, 2])
def test_concurrent_calls_on_same_inputs(rng, kernel_threads):
    tn.set_num_threads(kernel_threads)
    a, b = randn(rng, (300, 400)), randn(rng, (400, 500))
    a_before, b_before = a.copy(), b.copy()
    serial = tn.ops.gemm(a, b)
    # Half the threads allocate their result, half write into their own out= with beta.
    c0 = randn(rng, (300, 500))
    serial_beta = tn.ops.gemm(a, b, alpha=0.5, beta=-1.0, out=c0.copy())

    def with_out():
        return tn.ops.gemm(a, b, alpha=0.5, beta=-1.0, out=c0.copy())

    jobs = [lambda: tn.ops.gemm(a, b), with_out] * (N_THREADS // 2)
    results = run_in_threads(jobs, repeats=4)
    for i, res_list in enumerate(results):
        expected = serial if i % 2 == 0 else serial_beta
        for r in res_list:
            np.testing.assert_array_equal(r, expected)
    np.testing.assert_array_equal(a, a_before)
    np.testing.assert_array_equal(b, b_before)


def test_concurrent_calls_with_explicit_variants(rng):
    # Different kernel variants at once (each thread's packing scratch is its own).
    variants = (["ref"] + list(_core.supported_isas()) * 2)[:N_THREADS]
    a, b = randn(rng, (61, 389)), randn(rng, (389, 97))
    serial = {v: _core.gemm(a, b, False, False, 1.0, 0.0, None, v) for v in set(variants)}
    jobs = [(lambda v=v: _core.gemm(a, b, False, False, 1.0, 0.0, None, v)) for v in variants]
    for v, res_list in zip(variants, run_in_threads(jobs)):
        for r in res_list:
            np.testing.assert_array_equal(r, serial[v], err_msg=v)


def test_gil_released_during_gemm(rng):
    """A pure-Python thread keeps counting while the main thread is inside one long gemm.

    If the kernel held the GIL, the counter could only advance for about one switch interval
    (5 ms) around the call, i.e. a few percent of the call's duration; with the GIL released it
    advances for most of it. The call is calibrated to take >= 0.25 s and we require the counter
    to reach a quarter of its undisturbed rate, trying up to 3 times (a GIL-holding kernel
    fails every attempt).
    """
    tn.set_num_threads(1)  # leave a core for the counter thread
    old_interval = sys.getswitchinterval()
    sys.setswitchinterval(0.005)
    counter = [0]
    stop = threading.Event()

    def count():
        while not stop.is_set():
            counter[0] += 1

    # Calibrate a single gemm call that lasts long enough (the generic kernel is the slowest).
    variant = "generic"
    n, k = 256, 256
    while True:
        a, b = randn(rng, (n, k)), randn(rng, (k, n))
        t0 = time.perf_counter()
        _core.gemm(a, b, False, False, 1.0, 0.0, None, variant)
        if time.perf_counter() - t0 >= 0.25 or k >= 1 << 15:
            break
        k *= 2
    t = threading.Thread(target=count, daemon=True)
    t.start()
    try:
        time.sleep(0.05)  # let the counter get going
        c0, t0 = counter[0], time.perf_counter()
        time.sleep(0.2)   # sleep releases the GIL: the undisturbed rate
        rate = (counter[0] - c0) / (time.perf_counter() - t0)
        assert rate > 0
        fractions = []
        for _ in range(3):
            c0, t0 = counter[0], time.perf_counter()
            _core.gemm(a, b, False, False, 1.0, 0.0, None, variant)
            dt = time.perf_counter() - t0
            frac = (counter[0] - c0) / (rate * dt)
            fractions.append(round(frac, 3))
            if frac >= 0.25:
                break
        else:
            pytest.fail(f"counter thread starved during gemm (progress vs. idle rate per "
                        f"attempt: {fractions}); is the GIL held inside the kernel?")
    finally:
        stop.set()
        t.join(timeout=10)
        sys.setswitchinterval(old_interval)
