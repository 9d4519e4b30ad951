"""Runs the seed's backend-flask (tests/e2e/apps/backend_flask) as a subprocess, configured the
way the bootcamp configures it: only OTEL_* environment variables."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

APP_DIR = Path(__file__).resolve().parent / "apps" / "backend_flask"


class FlaskApp:
    def __init__(self, otlp_endpoint: str, api_key: str, work_dir: Path,
                 service_name: str = "backend-flask"):
        self.work_dir = Path(work_dir)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self.port_file = self.work_dir / "app.port"
        self.log_path = self.work_dir / "app.log"
        env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
        env.update({
            # The three lines of the seed's docker-compose, pointed at waggle.
            "OTEL_SERVICE_NAME": service_name,
            "OTEL_EXPORTER_OTLP_ENDPOINT": otlp_endpoint,
            "OTEL_EXPORTER_OTLP_HEADERS": f"x-honeycomb-team={api_key}",
            "APP_PORT_FILE": str(self.port_file),
            "PYTHONUNBUFFERED": "1",
            "NO_PROXY": "127.0.0.1,localhost",
        })
        self.env = env
        self.proc: subprocess.Popen | None = None

    def __enter__(self) -> "FlaskApp":
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([sys.executable, "app.py"], cwd=APP_DIR, env=self.env,
                                     stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while not self.port_file.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("backend-flask did not start:\n" + self.log())
            time.sleep(0.05)
        self.url = f"http://127.0.0.1:{self.port_file.read_text().strip()}"
        return self

    def get(self, path: str, headers: dict | None = None) -> requests.Response:
        return requests.get(self.url + path, headers=headers or {}, timeout=10)

    def stop(self, timeout: float = 30) -> int | None:
        """SIGTERM: the app exits through atexit, which shuts the TracerProvider down and so
        makes the BatchSpanProcessor export (force-flush) everything it holds."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode

    def __exit__(self, *exc) -> None:
        self.stop()

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""


def traceparent(trace_id_hex: str, parent_span_hex: str) -> dict[str, str]:
    return {"traceparent": f"00-{trace_id_hex}-{parent_span_hex}-01"}
