"""Durability: once waggle answers 200 to an OTLP export, `kill -9` must not lose it.

waggle runs with its default WAL policy (fsync before acknowledging). Batches go over
OTLP/HTTP protobuf; the server is SIGKILLed right after the last acknowledgement (and, in a
second round, in the middle of concurrent traffic); after a restart on the same data dir every
acknowledged span is found by trace id, exactly once.
"""

from __future__ import annotations

import threading
import time

import requests

from otlp_build import trace_batch
from waggle_harness import flatten


def check_all(srv, acked: dict[str, set[str]]) -> None:
    missing, dup = [], []
    for tid, span_ids in acked.items():
        r = srv.get_trace(tid)
        if r.status_code != 200:
            missing.append((tid, r.status_code))
            continue
        got = [s["span_id"] for s in flatten(r.json())]
        if set(got) != span_ids:
            missing.append((tid, sorted(span_ids - set(got))))
        if len(got) != len(set(got)):
            dup.append(tid)
    assert not missing, f"{len(missing)} of {len(acked)} acknowledged traces lost/incomplete: {missing[:5]}"
    assert not dup, f"spans duplicated after replay in traces {dup[:5]}"


def test_kill9_after_acknowledged_writes(waggle_factory, tmp_path):
    data = tmp_path / "shared-data"
    srv = waggle_factory(data_dir=data)
    acked: dict[str, set[str]] = {}
    s = requests.Session()
    for i in range(40):
        body, expect = trace_batch(5, spans_per_trace=4, tag=f"seq-{i}")
        r = srv.post_otlp(body, session=s)
        assert r.status_code == 200, r.text
        acked.update(expect)
    srv.kill()  # right after the last 200

    srv2 = waggle_factory(data_dir=data)
    check_all(srv2, acked)

    # Round two: 4 concurrent senders, kill -9 while requests are in flight. What was
    # acknowledged must be there; what was not may or may not be.
    lock = threading.Lock()
    stop = threading.Event()
    errors: list[str] = []

    def sender(n: int) -> None:
        sess = requests.Session()
        i = 0
        while not stop.is_set():
            body, expect = trace_batch(4, spans_per_trace=3, tag=f"conc-{n}-{i}")
            i += 1
            try:
                r = srv2.post_otlp(body, session=sess)
            except requests.RequestException:
                return  # the server died under us: this batch was not acknowledged
            if r.status_code == 200:
                with lock:
                    acked.update(expect)
            elif r.status_code not in (429, 503):
                errors.append(f"{r.status_code} {r.text[:200]}")
                return

    threads = [threading.Thread(target=sender, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 10
    while len(acked) < 400 and time.monotonic() < deadline:
        time.sleep(0.01)
    srv2.kill()
    stop.set()
    for t in threads:
        t.join(30)
    assert not errors, errors
    assert len(acked) > 200

    srv3 = waggle_factory(data_dir=data)
    check_all(srv3, acked)

    # A graceful stop and another start (segments rather than WAL replay) keep them too.
    assert srv3.stop() == 0
    srv4 = waggle_factory(data_dir=data)
    check_all(srv4, acked)
