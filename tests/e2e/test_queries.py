"""Queries across a restart, saved queries that persist, the data-dir lock and `waggle query`.

Spans go in over OTLP/HTTP protobuf; the same Honeycomb query must give the same answer from the
in-memory head and, after a restart, from segment files. Saved queries (query annotations) and
markers must come back after the restart; a second process on the same data directory must be
refused; `waggle query` must print the same numbers from the server and from the directory.
"""

from __future__ import annotations

import subprocess

import pytest
import requests

from otlp_build import trace_batch
from waggle_harness import waggle_bin

SPEC = {"calculations": [{"op": "COUNT"}, {"op": "COUNT_DISTINCT", "column": "trace.trace_id"}],
        "breakdowns": ["name"], "orders": [{"column": "name"}], "time_range": 3600}


def run_query(srv, dataset: str, spec: dict) -> tuple[str, dict]:
    h = srv.headers()
    created = requests.post(f"{srv.http}/1/queries/{dataset}", json=spec, headers=h, timeout=30)
    assert created.status_code == 200, created.text
    qid = created.json()["id"]
    result = requests.post(f"{srv.http}/1/query_results/{dataset}", json={"query_id": qid},
                           headers=h, timeout=30)
    assert result.status_code == 201, result.text
    return qid, result.json()


def ingest(srv, traces: int = 12) -> None:
    body, _ = trace_batch(traces, spans_per_trace=3, service="query-svc")
    r = srv.post_otlp(body)
    assert r.status_code == 200, r.text


def test_same_answers_from_head_and_segments_and_saved_queries_persist(waggle_factory, tmp_path):
    data = tmp_path / "data"
    srv = waggle_factory(data_dir=data)
    ingest(srv)
    qid, before = run_query(srv, "query-svc", SPEC)
    rows = {r["data"]["name"]: r["data"] for r in before["data"]["results"]}
    assert rows["root"]["COUNT"] == 12 and rows["child-0"]["COUNT"] == 12
    assert rows["root"]["COUNT_DISTINCT(trace.trace_id)"] == 12
    h = srv.headers()
    saved = requests.post(f"{srv.http}/1/query_annotations/query-svc", headers=h,
                          json={"name": "Spans by name", "query_id": qid}, timeout=10)
    assert saved.status_code == 201, saved.text
    marker = requests.post(f"{srv.http}/1/markers/query-svc", headers=h,
                           json={"message": "deploy 42", "type": "deploy"}, timeout=10)
    assert marker.status_code == 201, marker.text
    assert srv.stop() == 0

    srv2 = waggle_factory(data_dir=data)  # the head was flushed: answers now come from segments
    h = srv2.headers()
    listed = requests.get(f"{srv2.http}/1/query_annotations/query-svc", headers=h, timeout=10).json()
    assert [a["name"] for a in listed] == ["Spans by name"]
    rerun = requests.post(f"{srv2.http}/1/query_results/query-svc",
                          json={"query_id": listed[0]["query_id"]}, headers=h, timeout=30)
    assert rerun.status_code == 201, rerun.text
    assert rerun.json()["data"]["results"] == before["data"]["results"]
    markers = requests.get(f"{srv2.http}/1/markers/query-svc", headers=h, timeout=10).json()
    assert [m["message"] for m in markers] == ["deploy 42"]
    datasets = requests.get(f"{srv2.http}/1/datasets", headers=h, timeout=10).json()
    assert "query-svc" in [d["name"] for d in datasets]
    columns = requests.get(f"{srv2.http}/1/columns/query-svc", headers=h, timeout=10).json()
    assert {"e2e.tag", "duration_ms", "name"} <= {c["key_name"] for c in columns}


def test_data_dir_lock_and_waggle_query(waggle_factory, tmp_path):
    data = tmp_path / "data"
    srv = waggle_factory(data_dir=data)
    ingest(srv, traces=7)
    cli = [str(waggle_bin()), "query", "--calc", "COUNT", "--breakdown", "name",
           "--filter", "name starts-with child", "--order", "name", "--time-range", "1h"]
    out = subprocess.run(cli + ["--server", srv.addrs["http"]], capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0].split() == ["name", "COUNT"]
    assert lines[2].split() == ["child-0", "7"] and lines[3].split() == ["child-1", "7"]
    assert "2 groups" in out.stdout

    second = waggle_factory(data_dir=data, start=False)
    with pytest.raises(RuntimeError, match="exited"):
        second.start(timeout=10)
    assert "another waggle process" in second.log_tail(), second.log_tail()
    locked = subprocess.run(cli + ["--data-dir", str(data)], capture_output=True, text=True,
                            timeout=60)
    assert locked.returncode == 1 and "another waggle process" in locked.stderr, locked.stderr

    assert srv.stop() == 0
    offline = subprocess.run(cli + ["--data-dir", str(data), "--json"], capture_output=True,
                             text=True, timeout=60)
    assert offline.returncode == 0, offline.stderr
    assert '"COUNT":7' in offline.stdout.replace(" ", "")
