"""Benchmark worker: times the cases of ONE library, driven by bench/run.py over JSON lines.

Started as ``python bench/_worker.py LIB THREADS``; it answers one JSON line per request on stdout
and blocks on reading stdin (idle, not spinning) while the other libraries' workers run.
"""
import os
import sys

# Thread counts are fixed before numpy/torch/turbonn are imported (the driver sets them too).
LIB, THREADS = sys.argv[1], int(sys.argv[2])
for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = str(THREADS)
# Only the numpy column computes with NumPy's OpenBLAS. In the other workers (which import NumPy
# for their data) its idle threads would only spin against the timed library's for the cores
# (seen in perf at ~5-10% of samples), so they get one thread there: the same for every library.
if LIB != "numpy":
    os.environ["OPENBLAS_NUM_THREADS"] = "1"

import contextlib  # noqa: E402
import gc  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402
import time  # noqa: E402
import traceback  # noqa: E402

# Keep the protocol on a private copy of stdout; anything else printed (even from C) goes to stderr.
_PROTO = os.fdopen(os.dup(1), "w", buffering=1)
os.dup2(2, 1)
sys.stdout = sys.stderr

# Find the ``bench`` package from any working directory: the repo root is this file's grandparent.
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path[0:1] = [_ROOT]


def send(msg):
    _PROTO.write(json.dumps(msg) + "\n")
    _PROTO.flush()


def error_text(exc):
    return f"{type(exc).__name__}: {exc}".splitlines()[0][:300]


def load_library(lib, threads):
    """Import ``lib``, set its thread count, and describe it (version, config text)."""
    info = {"lib": lib, "python": sys.version.split()[0]}
    import numpy
    info["numpy"] = numpy.__version__
    if lib == "numpy":
        info["version"] = numpy.__version__
    elif lib == "torch":
        import torch
        torch.set_num_threads(threads)
        info["version"] = torch.__version__
        info["threads"] = torch.get_num_threads()
    elif lib == "turbonn":
        import turbonn as tn
        tn.set_num_threads(threads)
        info["version"] = getattr(tn, "__version__", "?")
        info["threads"] = tn.get_num_threads()
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            text = tn.show_config()
        info["config"] = text if isinstance(text, str) else buf.getvalue()
    else:
        raise ValueError(f"unknown library {lib!r}")
    return info


def run_repeats(fn, repeats):
    """Seconds for ``repeats`` back-to-back calls of ``fn`` (garbage collector off meanwhile)."""
    gc_was_on = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        for _ in range(repeats):
            fn()
        return time.perf_counter() - start
    finally:
        if gc_was_on:
            gc.enable()


def warm_up(fn, seconds, min_calls=1):
    """Calls ``fn`` at least ``min_calls`` times and for at least ``seconds``; returns the last result."""
    start, calls = time.perf_counter(), 0
    while calls < min_calls or time.perf_counter() - start < seconds:
        result = fn()
        calls += 1
    return result


def calibrate(fn, min_time):
    """The smallest-ish repeat count whose measurement lasts at least ``min_time`` seconds.

    Each step keeps the faster of two measurements, so one noisy one cannot stop it too early.
    """
    repeats = 1
    while True:
        elapsed = min(run_repeats(fn, repeats), run_repeats(fn, repeats))
        if elapsed >= min_time or repeats >= 1_000_000:
            return repeats
        if elapsed <= 0:
            repeats *= 10
        else:  # aim 20% past the target, growing at least 2x and at most 100x per step
            repeats = min(repeats * 100, max(repeats * 2, int(repeats * 1.2 * min_time / elapsed) + 1))


def checksum(result):
    """(sum, sum of |x|) of the output in float64, so the driver can compare libraries."""
    import numpy as np
    if result is None:
        return None
    if hasattr(result, "detach"):  # a torch tensor
        result = result.detach().cpu().numpy()
    arr = np.asarray(result, dtype=np.float64)
    return [float(arr.sum()), float(np.abs(arr).sum())]


def main():
    try:
        info = load_library(LIB, THREADS)
        from bench.cases import all_cases
        cases = all_cases()
    except BaseException as exc:  # missing library or broken registry: say so and stop
        send({"ok": False, "error": error_text(exc)})
        return
    send({"ok": True, "info": info})

    fn, repeats = None, 1
    for line in sys.stdin:  # blocks while idle; ends when the driver closes the pipe
        req = json.loads(line)
        op = req.get("op")
        try:
            if op == "quit":
                break
            elif op == "setup":  # {"op": "setup", "case": name, "min_time": seconds}
                fn = None
                gc.collect()
                setup = cases[req["case"]].setup.get(LIB)
                if setup is None:
                    send({"ok": True, "missing": True})
                    continue
                fn = setup()
                first = checksum(fn())  # first touch of the output; lazy init of the library
                warm_up(fn, float(req["min_time"]), min_calls=3)
                repeats = calibrate(fn, float(req["min_time"]))
                send({"ok": True, "repeats": repeats, "checksum": first})
            elif op == "time":  # {"op": "time", "min_time": seconds}
                # warm-up: caches went cold and threads went to sleep while other workers ran
                warm_up(fn, 0.1 * float(req["min_time"]))
                elapsed, used = run_repeats(fn, repeats), repeats
                if elapsed < 0.5 * float(req["min_time"]):  # calibrated while the machine was busy
                    repeats = calibrate(fn, float(req["min_time"]))  # (before replying: no overlap)
                send({"ok": True, "seconds": elapsed / used, "repeats": used})
            else:
                send({"ok": False, "error": f"unknown op {op!r}"})
        except Exception as exc:
            traceback.print_exc()
            send({"ok": False, "error": error_text(exc)})


if __name__ == "__main__":
    main()
