"""pytest fixtures: real `waggle serve` processes on free loopback ports.

`waggle`            a local-mode server (no --api-key), one per test.
`waggle_factory`    makes more servers (with keys, extra flags, a shared data dir); every one it
                    made is stopped (SIGTERM, then SIGKILL) when the test ends.
The binary comes from env WAGGLE_BIN (default build/src/server/waggle).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from waggle_harness import WaggleServer, waggle_bin  # noqa: E402


def pytest_sessionstart(session):
    b = waggle_bin()
    if not (b.is_file() and os.access(b, os.X_OK)):
        pytest.exit(f"waggle binary not found at {b}: build it (make build) or set WAGGLE_BIN",
                    returncode=2)


@pytest.fixture
def waggle_factory(tmp_path):
    made: list[WaggleServer] = []
    n = [0]

    def make(data_dir: Path | None = None, api_keys=(), extra_args=(), start=True):
        n[0] += 1
        log_dir = tmp_path / f"server-{n[0]}"
        srv = WaggleServer(data_dir=data_dir or (tmp_path / f"data-{n[0]}"), api_keys=api_keys,
                           extra_args=extra_args, log_dir=log_dir)
        made.append(srv)
        if start:
            srv.start()
        return srv

    yield make
    for srv in made:
        srv.stop()


@pytest.fixture
def waggle(waggle_factory) -> WaggleServer:
    return waggle_factory()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """On failure, attach the tail of every server log the test started."""
    outcome = yield
    rep = outcome.get_result()
    if rep.failed and "tmp_path" in item.funcargs:
        tmp = item.funcargs["tmp_path"]
        for log in sorted(Path(tmp).glob("server-*/waggle-*.log")):
            try:
                tail = "\n".join(log.read_text(errors="replace").splitlines()[-40:])
            except OSError:
                continue
            rep.sections.append((f"waggle log {log.parent.name}/{log.name}", tail))
