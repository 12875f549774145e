"""Driver side of the worker protocol: start a library's worker, send JSON requests, read replies.

A worker that crashes, hangs past a timeout or cannot import its library raises WorkerDied.
"""
from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import tempfile

WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_worker.py")
START_TIMEOUT = 180.0    # seconds for a worker to import its library
REQUEST_TIMEOUT = 300.0  # seconds for one setup or one timed measurement


class WorkerDied(Exception):
    pass


class Worker:
    """One library's worker process and the JSON-lines conversation with it."""

    def __init__(self, lib: str, threads: int):
        self.lib, self.threads = lib, threads
        self.proc = None
        self.info = None

    def start(self):
        env = dict(os.environ)
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = str(self.threads)
        self.stderr = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([sys.executable, WORKER, self.lib, str(self.threads)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.stderr, env=env, text=True, bufsize=1)
        hello = self._read(START_TIMEOUT)
        if not hello.get("ok"):
            self.stop()
            raise WorkerDied(f"not available ({hello.get('error')})")
        self.info = hello["info"]

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def request(self, msg: dict) -> dict:
        try:
            self.proc.stdin.write(json.dumps(msg) + "\n")
            self.proc.stdin.flush()
        except (BrokenPipeError, OSError):
            pass  # it died; _read reports how
        return self._read(REQUEST_TIMEOUT)

    def _read(self, timeout: float) -> dict:
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not ready:
            self.proc.kill()  # hung: no point asking it to quit
            self.stop()
            raise WorkerDied(f"timed out after {timeout:.0f} s")
        line = self.proc.stdout.readline()
        if not line:
            code = self.proc.wait()
            how = f"signal {signal.Signals(-code).name}" if code < 0 else f"code {code}"
            last = self._last_stderr()
            self.stop()
            raise WorkerDied(f"worker exited with {how}{last}")
        try:
            return json.loads(line)
        except ValueError:
            raise WorkerDied(f"garbled reply {line[:80]!r}") from None

    def _last_stderr(self) -> str:
        self.stderr.seek(0)
        lines = [ln.strip() for ln in self.stderr.read().decode(errors="replace").splitlines()]
        lines = [ln for ln in lines if ln]
        return f": {lines[-1][:200]}" if lines else ""

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write('{"op": "quit"}\n')
                self.proc.stdin.flush()
                self.proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        for pipe in (self.proc.stdin, self.proc.stdout, self.stderr):
            try:
                pipe.close()
            except OSError:
                pass
        self.proc = None
