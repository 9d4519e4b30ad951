"""Runs a real `waggle serve` for end-to-end tests and talks to it.

WaggleServer starts the binary (env WAGGLE_BIN, default build/src/server/waggle) on free
loopback ports, learns the bound addresses from the --ready-file JSON, and stops it with
SIGTERM (then SIGKILL after a timeout). Every server gets its own temporary data dir unless one
is given (the crash test restarts on the same dir).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_BIN = ROOT / "build" / "src" / "server" / "waggle"
# Sanitizer builds start and answer slower; scale every wait by this factor.
TIMEOUT_SCALE = float(os.environ.get("WAGGLE_E2E_TIMEOUT_SCALE", "1"))


def waggle_bin() -> Path:
    return Path(os.environ.get("WAGGLE_BIN") or DEFAULT_BIN).resolve()


class WaggleServer:
    def __init__(self, data_dir: Path | None = None, api_keys: tuple[str, ...] = (),
                 extra_args: tuple[str, ...] = (), log_dir: Path | None = None):
        self._own_tmp = None
        if data_dir is None:
            self._own_tmp = tempfile.TemporaryDirectory(prefix="waggle-e2e-")
            data_dir = Path(self._own_tmp.name) / "data"
        self.data_dir = Path(data_dir)
        self.api_keys = tuple(api_keys)
        self.extra_args = tuple(extra_args)
        self.log_dir = Path(log_dir) if log_dir else self.data_dir.parent
        self.proc: subprocess.Popen | None = None
        self.addrs: dict[str, str] = {}
        self.starts = 0

    # --- lifecycle -------------------------------------------------------------------------
    def start(self, timeout: float = 30.0) -> "WaggleServer":
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.starts += 1
        ready = self.log_dir / f"ready-{self.starts}.json"
        if ready.exists():
            ready.unlink()
        self.log_path = self.log_dir / f"waggle-{self.starts}.log"
        args = [str(waggle_bin()), "serve",
                "--data-dir", str(self.data_dir),
                "--http-listen", "127.0.0.1:0",
                "--otlp-http-listen", "127.0.0.1:0",
                "--otlp-grpc-listen", "127.0.0.1:0",
                "--xray-listen", "127.0.0.1:0",
                "--ready-file", str(ready)]
        for k in self.api_keys:
            args += ["--api-key", k]
        args += list(self.extra_args)
        self._log = open(self.log_path, "wb")
        env = {k: v for k, v in os.environ.items() if not k.startswith("WAGGLE_")}
        self.proc = subprocess.Popen(args, stdout=self._log, stderr=subprocess.STDOUT, env=env,
                                     stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout * TIMEOUT_SCALE
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"waggle exited with {self.proc.returncode} before ready:\n"
                                   + self.log_tail())
            if ready.exists():
                try:
                    self.addrs = json.loads(ready.read_text())
                    break
                except (json.JSONDecodeError, OSError):
                    pass  # written non-atomically: retry
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError("waggle not ready in time:\n" + self.log_tail())
            time.sleep(0.02)
        for key in ("http", "otlp_http"):
            assert key in self.addrs, f"ready file lacks {key!r}: {self.addrs}"
        return self

    def stop(self, timeout: float = 20.0) -> int | None:
        """SIGTERM, wait, SIGKILL if needed. Returns the exit code (None if it had to be killed)."""
        if self.proc is None:
            return None
        rc = self.proc.poll()
        if rc is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                rc = self.proc.wait(timeout * TIMEOUT_SCALE)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                rc = None
        self._log.close()
        return rc

    def kill(self) -> None:
        """kill -9: no chance to flush anything."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        if self.proc is not None:
            self._log.close()

    def close(self) -> None:
        self.stop()
        if self._own_tmp is not None:
            self._own_tmp.cleanup()
            self._own_tmp = None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def log_tail(self, n: int = 60) -> str:
        try:
            lines = Path(self.log_path).read_text(errors="replace").splitlines()
        except OSError:
            return "(no log)"
        return "\n".join(lines[-n:])

    # --- addresses -------------------------------------------------------------------------
    @property
    def http(self) -> str:
        return "http://" + self.addrs["http"]

    @property
    def otlp_http(self) -> str:
        return "http://" + self.addrs["otlp_http"]

    def headers(self, key: str | None = None) -> dict[str, str]:
        key = key if key is not None else (self.api_keys[0] if self.api_keys else "local-key")
        return {"x-honeycomb-team": key}

    # --- API -------------------------------------------------------------------------------
    def get_trace(self, trace_id: str, key: str | None = None) -> requests.Response:
        return requests.get(f"{self.http}/api/v1/traces/{trace_id}", headers=self.headers(key),
                            timeout=10)

    def wait_trace(self, trace_id: str, min_spans: int = 1, timeout: float = 10.0,
                   key: str | None = None) -> dict:
        """Polls until the trace has at least `min_spans` spans; returns the JSON."""
        deadline = time.monotonic() + timeout * TIMEOUT_SCALE
        last = None
        while True:
            r = self.get_trace(trace_id, key)
            last = r
            if r.status_code == 200:
                doc = r.json()
                if len(flatten(doc)) >= min_spans:
                    return doc
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"trace {trace_id} not complete after {timeout}s: last {last.status_code} "
                    f"{last.text[:2000]}")
            time.sleep(0.05)

    def recent_trace_ids(self, limit: int = 100, key: str | None = None) -> list[str]:
        r = requests.get(f"{self.http}/api/v1/traces", params={"limit": limit},
                         headers=self.headers(key), timeout=10)
        assert r.status_code == 200, r.text
        doc = r.json()
        items = doc.get("traces", doc) if isinstance(doc, dict) else doc
        out = []
        for it in items:
            tid = it.get("trace_id") or it.get("trace.trace_id") if isinstance(it, dict) else it
            if tid:
                out.append(tid)
        return out

    def post_otlp(self, body: bytes, content_type: str = "application/x-protobuf",
                  port: str = "otlp_http", key: str | None = None, extra: dict | None = None,
                  session: requests.Session | None = None) -> requests.Response:
        h = {"Content-Type": content_type, **self.headers(key)}
        if extra:
            h.update(extra)
        base = self.otlp_http if port == "otlp_http" else self.http
        s = session or requests
        return s.post(f"{base}/v1/traces", data=body, headers=h, timeout=30)


def flatten(doc: dict) -> list[dict]:
    """Every span of a trace document (the span tree walked depth-first)."""
    out = []

    def walk(nodes):
        for n in nodes or []:
            out.append(n)
            walk(n.get("children"))

    walk(doc.get("spans"))
    return out


def by_name(doc: dict) -> dict[str, list[dict]]:
    m: dict[str, list[dict]] = {}
    for s in flatten(doc):
        m.setdefault(s["name"], []).append(s)
    return m


def parent_map(doc: dict) -> dict[str, str | None]:
    """span_id -> span_id of the node it hangs under in the returned tree (None for roots)."""
    out: dict[str, str | None] = {}

    def walk(nodes, parent):
        for n in nodes or []:
            out[n["span_id"]] = parent
            walk(n.get("children"), n["span_id"])

    walk(doc.get("spans"), None)
    return out


def is_null_parent(pid) -> bool:
    return pid in (None, "", "0" * 16)
