"""Every native kernel (tests/op_calls.py: one call per binding) from several Python threads:
four threads calling the same binding at once, and four different bindings at once, get results
bit-identical to a serial call (1 and 2 kernel threads); and every kernel releases the GIL: a
pure-Python thread keeps running while the main thread is inside one long call."""
from __future__ import annotations

import contextlib
import sys
import threading
import time

import numpy as np
import pytest

import turbonn as tn
from op_calls import CALLS
from test_concurrency import run_in_threads

NAMES = sorted(CALLS)


def assert_bit_identical(got: list, want: list, what: str):
    assert len(got) == len(want), what
    for g, w in zip(got, want):
        assert g.dtype == w.dtype and g.shape == w.shape, what
        assert g.tobytes() == w.tobytes(), f"{what}: results differ from the serial call"


@pytest.mark.parametrize("kernel_threads", [1, 2])
@pytest.mark.parametrize("name", NAMES)
def test_four_threads_same_binding_bit_identical(name, kernel_threads, rng):
    tn.set_num_threads(kernel_threads)
    run = CALLS[name](rng, 2)
    serial = run()
    for i, results in enumerate(run_in_threads([run] * 4, repeats=3)):
        for r in results:
            assert_bit_identical(r, serial, f"{name}, thread {i}")


@pytest.mark.parametrize("group", range(0, len(NAMES), 4))
def test_four_threads_different_bindings_bit_identical(group, rng):
    tn.set_num_threads(2)
    names = NAMES[group:group + 4]
    runs = [CALLS[n](rng, 2) for n in names]
    serial = [run() for run in runs]
    for name, want, results in zip(names, serial, run_in_threads(runs, repeats=3)):
        for r in results:
            assert_bit_identical(r, want, name)


class Counter:
    """A pure-Python thread counting whenever it holds the GIL."""

    def __init__(self):
        self.n = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._count, daemon=True)

    def _count(self):
        while not self.stop.is_set():
            self.n += 1
            time.sleep(0)  # hands the GIL straight back to a main thread that waits for it

    def progress_during(self, fn) -> int:
        """How far the counter got while fn() ran. The counter waits SWITCH_S (far longer than
        any probed call) before the interpreter forces the GIL away from the main thread, so
        it can only run if something in fn() releases the GIL: a call that holds it throughout
        shows exactly 0."""
        time.sleep(0.001)  # a fresh start: the counter's wait begins when we take the GIL back
        c0 = self.n
        fn()
        return self.n - c0


@contextlib.contextmanager
def counting():
    """A running Counter, with the switch interval at SWITCH_S and one kernel thread (the
    kernel on one core, the counter on the other)."""
    old = sys.getswitchinterval()
    sys.setswitchinterval(SWITCH_S)
    c = Counter()
    c.thread.start()
    time.sleep(0.01)
    try:
        yield c
    finally:
        c.stop.set()
        c.thread.join(timeout=10)
        sys.setswitchinterval(old)


SWITCH_S = 0.5     # the interpreter's forced GIL hand-over; every probed call is far shorter
MIN_CALL_S = 0.02  # long enough for the OS to wake the counter inside the call
MAX_CALL_S = 0.2
MAX_N = 4096


def test_probe_tells_held_from_released():
    """The probe itself: a 10 ms pure-Python loop (GIL held) shows no progress, a 10 ms sleep
    (GIL released) does."""
    def spin():
        t_end = time.perf_counter() + 0.01
        while time.perf_counter() < t_end:
            pass
    with counting() as counter:
        assert max(counter.progress_during(spin) for _ in range(3)) == 0
        assert max(counter.progress_during(lambda: time.sleep(0.01)) for _ in range(5)) > 0


@pytest.mark.parametrize("name", NAMES)
def test_gil_released_inside_every_kernel(name, rng):
    """The counter thread runs while the main thread is inside one call of the binding."""
    tn.set_num_threads(1)
    n = 1
    while True:  # grow the call until a warm one (its memory reused) lasts MIN_CALL_S
        run = CALLS[name](rng, n)
        run()
        t0 = time.perf_counter()
        run()
        dt = time.perf_counter() - t0
        if dt >= MIN_CALL_S or n >= MAX_N:
            break
        n *= 2
    assert dt < MAX_CALL_S, f"{name}: calibrated call took {dt * 1e3:.1f} ms"
    progress = []
    with counting() as counter:
        for _ in range(5):  # the machine is shared: the counter may not get a core at once
            progress.append(counter.progress_during(run))
            if progress[-1] > 0:
                return
    pytest.fail(f"{name} (n={n}, ~{dt * 1e3:.1f} ms per call): the counter thread never ran "
                f"inside the call {progress}; is the GIL held inside the kernel?")


@pytest.mark.parametrize("name", NAMES)
def test_results_do_not_depend_on_the_thread_count(name, rng):
    """README (Determinism): kernels split work without changing any sum's order, so 1, 2 and 3
    threads (more than this machine's cores included) give the same bits."""
    run = CALLS[name](rng, 32)  # big enough that every kernel splits its work
    results = []
    for threads in (1, 2, 3):
        tn.set_num_threads(threads)
        results.append(run())
    for threads, r in zip((2, 3), results[1:]):
        assert_bit_identical(r, results[0], f"{name} with {threads} threads vs 1")


def test_every_binding_has_a_call():
    """op_calls covers every native binding except the runtime queries and settings, so the
    tests above reach each kernel (a new binding without an entry fails here)."""
    from op_calls import NOT_KERNELS
    from turbonn import _core
    bindings = {n for n in dir(_core) if not n.startswith("__") and callable(getattr(_core, n))}
    assert bindings - NOT_KERNELS == set(CALLS), sorted(bindings ^ (set(CALLS) | NOT_KERNELS))
