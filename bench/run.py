"""The benchmark suite: times turbonn against NumPy and PyTorch, case by case, and writes JSON.

Each library runs in its own worker process (bench/_worker.py) so thread pools never share cores;
one worker times at a time, in rotating order per round. Usage: ``python bench/run.py --help``.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import time

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
if __package__ in (None, ""):  # run as a script: make ``bench`` importable from any cwd
    sys.path[0:1] = [os.path.dirname(BENCH_DIR)]

from bench._proc import Worker, WorkerDied  # noqa: E402
from bench.cases import LABELS, LIBS, select as select_cases  # noqa: E402

SETTLE = 0.2             # idle seconds before each measurement: the previous worker's threads
                         # spin after their last call before sleeping (OpenBLAS for ~0.1 s)


def machine_info(threads: int) -> dict:
    try:
        with open("/proc/cpuinfo") as f:
            model = next(ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name"))
    except (OSError, StopIteration):
        model = "?"
    return {"cpu_model": model, "nproc": os.cpu_count(),
            "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
            "threads": threads, "platform": platform.platform(),
            "python": platform.python_version(), "executable": sys.executable}


def fmt_ms(seconds):
    if seconds is None:
        return "-"
    ms = seconds * 1e3
    return f"{ms:.1f}" if ms >= 100 else f"{ms:.2f}" if ms >= 10 else f"{ms:.3f}"


class Table:
    """Prints the header once and a row per case as soon as it is done."""

    def __init__(self, libs, name_width):
        self.refs = [lib for lib in libs if lib != "turbonn"]
        self.ours = "turbonn" in libs
        self.cols = [("case", name_width)] + [(f"{LABELS[lib]} ms", 10) for lib in libs]
        if self.ours:
            self.cols += [(f"{LABELS[r]}/ours", 11) for r in self.refs] + [("ours rate", 16)]
        self.libs = libs

    def _line(self, cells):
        return "  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                         for i, (c, (_, w)) in enumerate(zip(cells, self.cols)))

    def header(self):
        print(self._line([name for name, _ in self.cols]))
        print(self._line(["-" * w for _, w in self.cols]), flush=True)

    def row(self, entry):
        med = {lib: entry["results"].get(lib, {}).get("median_s") for lib in self.libs}
        cells = [entry["name"]] + [fmt_ms(med[lib]) for lib in self.libs]
        if self.ours:
            for ref in self.refs:
                ratio = entry["ratios"].get(ref)
                cells.append("-" if ratio is None else f"{ratio:.2f}x")
            rate = entry["results"].get("turbonn", {}).get("rate")
            cells.append("-" if rate is None else f"{rate:.1f} {entry['rate_unit']}")
        print(self._line(cells), flush=True)


def run_case(case, workers, libs, rounds, min_time, notes):
    """Set the case up in every worker, then time it round by round; returns the JSON entry."""
    entry = {"name": case.name, "family": case.family, "note": case.note, "flops": case.flops,
             "bytes": case.bytes, "results": {}, "ratios": {}, "rate_unit": case.rate(1.0)[1]}
    ready = []
    for lib in libs:
        res = entry["results"][lib] = {"times_s": []}
        worker = workers[lib]
        if worker is None:
            res["error"] = "library not available"
            continue
        try:
            if not worker.alive:  # crashed on an earlier case: try a fresh one
                worker.start()
            reply = worker.request({"op": "setup", "case": case.name, "min_time": min_time})
        except WorkerDied as exc:
            res["error"] = str(exc)
            notes.append(f"{LABELS[lib]}: {case.name}: {exc}")
            continue
        if reply.get("missing"):
            res["error"] = "no such op"
        elif not reply.get("ok"):
            res["error"] = reply.get("error")
            notes.append(f"{LABELS[lib]}: {case.name}: setup failed: {reply.get('error')}")
        else:
            res["repeats"], res["checksum"] = reply["repeats"], reply["checksum"]
            ready.append(lib)

    for r in range(rounds):
        order = ready[r % len(ready):] + ready[:r % len(ready)] if ready else []
        for lib in order:
            res = entry["results"][lib]
            if "error" in res:
                continue
            time.sleep(SETTLE)
            try:
                reply = workers[lib].request({"op": "time", "min_time": min_time})
            except WorkerDied as exc:
                reply = {"ok": False, "error": str(exc)}
            if reply.get("ok"):
                res["times_s"].append(reply["seconds"])
            else:
                res["error"] = reply.get("error")
                notes.append(f"{LABELS[lib]}: {case.name}: round {r + 1} failed: {reply.get('error')}")

    spread = []
    for lib in libs:
        res = entry["results"][lib]
        if "error" in res or not res["times_s"]:
            res["median_s"] = None
            continue
        res["median_s"] = statistics.median(res["times_s"])
        res["rate"] = case.rate(res["median_s"])[0]
        fast, slow = min(res["times_s"]), max(res["times_s"])
        if slow > 1.5 * fast:  # a busy machine shows up here first
            spread.append(f"{LABELS[lib]} {fmt_ms(fast)}..{fmt_ms(slow)}")
    if spread:
        notes.append(f"{case.name}: rounds vary (busy machine?): {', '.join(spread)} ms")
    ours = entry["results"].get("turbonn", {}).get("median_s")
    for lib in libs:
        ref = entry["results"][lib].get("median_s")
        if lib != "turbonn":
            entry["ratios"][lib] = ref / ours if ours and ref else None
    check_outputs(entry, libs, notes)
    return entry


def check_outputs(entry, libs, notes, rtol=1e-4):
    """Notes a library whose output checksum differs from the first one's (a wrong result)."""
    sums = [(lib, entry["results"][lib].get("checksum")) for lib in libs]
    sums = [(lib, s) for lib, s in sums if s and entry["results"][lib].get("median_s") is not None]
    if len(sums) < 2:
        return
    base_lib, (base, base_abs) = sums[0]
    for lib, (s, s_abs) in sums[1:]:
        if abs(s - base) > rtol * max(base_abs, s_abs, 1e-30):
            notes.append(f"{entry['name']}: output checksum of {LABELS[lib]} ({s:.6g}) differs "
                         f"from {LABELS[base_lib]} ({base:.6g})")


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="representative subset, 3 rounds, shorter")
    p.add_argument("--filter", action="append", default=[], metavar="SUBSTR",
                   help="run cases whose name contains SUBSTR (repeatable, or comma separated)")
    p.add_argument("--threads", type=int, default=2, help="threads per library (default 2)")
    p.add_argument("--rounds", type=int, default=None, help="timed rounds per case (default 5)")
    p.add_argument("--min-time", type=float, default=None, metavar="S",
                   help="seconds each timed measurement lasts at least (default 0.02, --quick "
                        "0.01); longer steadies cases of several ms on a noisy machine")
    p.add_argument("--libs", default=",".join(LIBS), help=f"subset of {','.join(LIBS)}")
    p.add_argument("--json", metavar="PATH", help="results file (default bench/results/<time>.json)")
    p.add_argument("--list", action="store_true", help="list the cases and exit")
    args = p.parse_args(argv)
    args.filter = [f for item in args.filter for f in item.split(",") if f]
    args.libs = [lib for lib in args.libs.split(",") if lib]
    for lib in args.libs:
        if lib not in LIBS:
            p.error(f"--libs: unknown library {lib!r} (choose from {', '.join(LIBS)})")
    args.libs = [lib for lib in LIBS if lib in args.libs]  # table and round-1 order: ours first
    if args.threads < 1:
        p.error("--threads must be >= 1")
    if args.rounds is None:
        args.rounds = 3 if args.quick else 5
    if args.rounds < 1:
        p.error("--rounds must be >= 1")
    if args.min_time is None:
        args.min_time = 0.01 if args.quick else 0.02
    if args.min_time <= 0:
        p.error("--min-time must be > 0")
    return args


def list_cases(filters, quick):
    for case in select_cases(filters, quick):
        work = f"{case.flops / 1e9:.3g} GFLOP" if case.flops else f"{(case.bytes or 0) / 1e6:.3g} MB"
        print(f"{case.name:<28} {work:>12}  {'quick' if case.quick else '     '}  {case.note}")


def main(argv=None):
    args = parse_args(argv)
    if args.list:
        list_cases(args.filter, args.quick)
        return 0
    cases = select_cases(args.filter, args.quick)
    if not cases:
        print(f"no case matches {args.filter} (see --list)", file=sys.stderr)
        return 1

    started = datetime.datetime.now()
    out_path = args.json or os.path.join(BENCH_DIR, "results", started.strftime("%Y%m%d-%H%M%S") + ".json")
    notes, entries, workers = [], [], {}
    machine = machine_info(args.threads)
    for lib in args.libs:
        workers[lib] = Worker(lib, args.threads)
        try:
            workers[lib].start()
        except WorkerDied as exc:
            notes.append(f"{LABELS[lib]}: {exc}")
            workers[lib] = None
    versions = ", ".join(f"{lib} {w.info.get('version')}" for lib, w in workers.items() if w)
    print(f"cpu: {machine['cpu_model']} ({machine['nproc']} cpus), threads: {args.threads}, "
          f"rounds: {args.rounds}; {versions}")
    table = Table(args.libs, max(len(c.name) for c in cases))
    table.header()
    complete = False
    try:
        for case in cases:
            entries.append(run_case(case, workers, args.libs, args.rounds, args.min_time, notes))
            table.row(entries[-1])
        complete = True
    finally:
        for w in workers.values():
            if w is not None:
                w.stop()
        for note in notes:
            print(f"note: {note}")
        report = {"created": started.isoformat(timespec="seconds"), "complete": complete,
                  "argv": sys.argv[1:], "machine": machine,
                  "settings": {"threads": args.threads, "rounds": args.rounds, "quick": args.quick,
                               "min_time_s": args.min_time, "libs": args.libs, "filter": args.filter},
                  "libraries": {lib: (w.info if w else None) for lib, w in workers.items()},
                  "cases": entries, "notes": notes}
        os.makedirs(os.path.dirname(os.path.abspath(out_path)), exist_ok=True)
        tmp = out_path + ".tmp"
        with open(tmp, "w") as f:
            json.dump(report, f, indent=1)
        os.replace(tmp, out_path)
        shown = os.path.relpath(out_path)
        print(f"results: {os.path.abspath(out_path) if shown.startswith('..') else shown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
