"""X-Ray ingest end to end: the Python aws-xray-sdk (XRayMiddleware on a Flask app like the
seed's) sends segments to waggle's UDP port; the traces are read back through waggle's own API,
boto3's `xray.batch_get_traces` and the aws CLI; `aws xray put-trace-segments` writes too."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import boto3
import botocore.exceptions
import pytest
import requests

from waggle_harness import TIMEOUT_SCALE, WaggleServer, by_name, flatten

APP_DIR = Path(__file__).resolve().parent / "apps" / "xray_flask"
AWS_ENV = {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret",
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_EC2_METADATA_DISABLED": "true"}


def xray_client(srv: WaggleServer):
    return boto3.client("xray", endpoint_url=srv.http, region_name="us-east-1",
                        aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret")


def root_of(header: str) -> str:
    parts = dict(p.split("=", 1) for p in header.split(";") if "=" in p)
    return parts["Root"]


class XrayFlaskApp:
    def __init__(self, daemon_address: str, work_dir: Path):
        work_dir.mkdir(parents=True, exist_ok=True)
        self.port_file = work_dir / "app.port"
        self.log_path = work_dir / "app.log"
        self.env = {**os.environ, "AWS_XRAY_DAEMON_ADDRESS": daemon_address,
                    "APP_PORT_FILE": str(self.port_file), "PYTHONUNBUFFERED": "1",
                    "NO_PROXY": "127.0.0.1,localhost", **AWS_ENV}

    def __enter__(self):
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([sys.executable, "app.py"], cwd=APP_DIR, env=self.env,
                                     stdout=self._log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while not self.port_file.exists():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.__exit__()
                raise RuntimeError("xray flask app did not start:\n" + self.log())
            time.sleep(0.05)
        self.url = f"http://127.0.0.1:{self.port_file.read_text().strip()}"
        return self

    def get(self, path: str, headers: dict | None = None) -> requests.Response:
        return requests.get(self.url + path, headers=headers or {}, timeout=10)

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


@pytest.fixture(scope="module")
def traced(tmp_path_factory):
    """One waggle and three requests through the X-Ray-instrumented app: two home timelines
    (one continuing an incoming X-Amzn-Trace-Id) and one that raises (a fault with a cause)."""
    tmp = tmp_path_factory.mktemp("xray")
    srv = WaggleServer(data_dir=tmp / "data", log_dir=tmp / "server-1").start()
    try:
        assert srv.addrs["xray"].startswith("127.0.0.1:"), srv.addrs
        incoming_root = "1-5759e988-bd862e3fe1be46a994272793"
        incoming_parent = "53995c3f42cd8ad8"
        with XrayFlaskApp(srv.addrs["xray"], tmp / "app") as app:
            r1 = app.get("/api/activities/home", {"X-Cruddur-User": "user-1001"})
            r2 = app.get("/api/activities/home", {
                "X-Cruddur-User": "user-1002",
                "X-Amzn-Trace-Id": f"Root={incoming_root};Parent={incoming_parent};Sampled=1"})
            r3 = app.get("/api/e2e/boom")
            assert r1.status_code == 200 and len(r1.json()) == 3, r1.text
            assert r2.status_code == 200, r2.text
            assert r3.status_code == 500
            ids = [root_of(r.headers["X-Amzn-Trace-Id"]) for r in (r1, r2, r3)]
            assert ids[1] == incoming_root
            app_log = app.log()
        yield {"srv": srv, "ids": ids, "parent": incoming_parent, "app_log": app_log}
    finally:
        srv.stop()


def spans_of(srv: WaggleServer, xray_id: str, min_spans: int) -> dict:
    return srv.wait_trace(xray_id, min_spans=min_spans)


def test_sdk_segments_become_a_span_tree(traced):
    srv, ids = traced["srv"], traced["ids"]
    doc = spans_of(srv, ids[0], 2)
    assert doc["trace_id"] == ids[0][2:].replace("-", "")  # X-Ray id -> W3C id
    names = by_name(doc)
    [segment] = names["backend-flask"]
    [sub] = names["mock-data"]
    assert segment["parent_id"] is None
    assert sub["parent_id"] == segment["span_id"]
    assert segment["service.name"] == sub["service.name"] == "backend-flask"
    assert segment["span.kind"] == "server" and sub["span.kind"] == "internal"
    a = segment["attributes"]
    assert a["http.request.method"] == "GET"
    assert a["url.full"].endswith("/api/activities/home")
    assert a["http.response.status_code"] == 200
    assert a["annotation.user_id"] == "user-1001"
    assert a["xray.type"] == "segment"
    assert a["aws.xray.sdk"].startswith("X-Ray for Python")
    s = sub["attributes"]
    assert s["annotation.result_length"] == 3
    assert json.loads(s["metadata.cruddur"])["results"][2]["handle"] == "user-2"
    assert segment["error"] is False
    assert 0 <= sub["duration_ms"] <= segment["duration_ms"]


def test_incoming_trace_header_is_continued(traced):
    srv, ids = traced["srv"], traced["ids"]
    doc = spans_of(srv, ids[1], 2)
    [segment] = by_name(doc)["backend-flask"]
    assert segment["parent_id"] == traced["parent"]
    assert segment["attributes"]["annotation.user_id"] == "user-1002"
    # The same trace under its W3C id.
    w3c = ids[1][2:].replace("-", "")
    assert srv.wait_trace(w3c, min_spans=2)["trace_id"] == w3c


def test_fault_with_cause_is_an_error_with_an_exception_event(traced):
    srv, ids = traced["srv"], traced["ids"]
    doc = spans_of(srv, ids[2], 1)
    [segment] = flatten(doc)
    assert segment["error"] is True
    assert segment["attributes"]["xray.fault"] is True
    assert segment["attributes"]["http.response.status_code"] == 500
    [event] = [e for e in segment["events"] if e["name"] == "exception"]
    assert event["attributes"]["exception.type"] == "ValueError"
    assert "boom for the e2e test" in event["attributes"]["exception.message"]


def test_boto3_batch_get_traces(traced):
    srv, ids = traced["srv"], traced["ids"]
    spans_of(srv, ids[0], 2)
    out = xray_client(srv).batch_get_traces(TraceIds=[ids[0], "1-00000001-000000000000000000000001"])
    assert out["UnprocessedTraceIds"] == ["1-00000001-000000000000000000000001"]
    [trace] = out["Traces"]
    assert trace["Id"] == ids[0]
    assert trace["Duration"] > 0 and trace["LimitExceeded"] is False
    [segment] = trace["Segments"]
    doc = json.loads(segment["Document"])
    assert segment["Id"] == doc["id"]
    assert doc["name"] == "backend-flask" and doc["trace_id"] == ids[0]
    assert doc["http"]["response"]["status"] == 200
    assert doc["http"]["request"]["method"] == "GET"
    assert doc["annotations"] == {"user_id": "user-1001"}
    [sub] = doc["subsegments"]
    assert sub["name"] == "mock-data" and sub["annotations"] == {"result_length": 3}
    assert sub["metadata"]["cruddur"]["results"][0]["uuid"] == "0"
    assert doc["start_time"] <= sub["start_time"] <= sub["end_time"] <= doc["end_time"]


def test_boto3_sees_aws_errors(traced):
    with pytest.raises(botocore.exceptions.ClientError) as e:
        xray_client(traced["srv"]).batch_get_traces(TraceIds=[f"1-00000001-{i:024x}" for i in range(101)])
    assert e.value.response["Error"]["Code"] == "InvalidRequestException"
    assert "100" in e.value.response["Error"]["Message"]


def aws_cli(srv: WaggleServer, *args: str) -> subprocess.CompletedProcess:
    aws = shutil.which("aws")
    if aws is None:
        pytest.skip("aws CLI not installed")
    return subprocess.run([aws, "xray", *args, "--endpoint-url", srv.http, "--output", "json"],
                          env={**os.environ, **AWS_ENV}, capture_output=True, text=True,
                          timeout=60 * TIMEOUT_SCALE)


def test_aws_cli_put_trace_segments_and_batch_get_traces(traced):
    srv = traced["srv"]
    now = time.time()
    trace_id = "1-%08x-%024x" % (int(now), 0xABCDEF0123456789)
    good = {"name": "cli-service", "id": "70de5b6f19ff9a0a", "trace_id": trace_id,
            "start_time": now, "end_time": now + 0.25, "annotations": {"source": "cli"},
            "subsegments": [{"name": "query", "id": "0f910026178b71eb", "namespace": "remote",
                             "start_time": now + 0.1, "end_time": now + 0.2}]}
    bad = {"name": "broken", "id": "xyz", "trace_id": trace_id, "start_time": now,
           "end_time": now + 1}
    p = aws_cli(srv, "put-trace-segments", "--trace-segment-documents",
                json.dumps(good), json.dumps(bad))
    assert p.returncode == 0, p.stderr
    [unprocessed] = json.loads(p.stdout)["UnprocessedTraceSegments"]
    assert unprocessed["Id"] == "xyz" and unprocessed["ErrorCode"] == "InvalidSegment"
    assert "invalid segment id" in unprocessed["Message"]

    doc = srv.wait_trace(trace_id, min_spans=2)
    names = by_name(doc)
    assert names["query"][0]["parent_id"] == "70de5b6f19ff9a0a"
    assert names["query"][0]["span.kind"] == "client"
    assert names["cli-service"][0]["attributes"]["annotation.source"] == "cli"

    p = aws_cli(srv, "batch-get-traces", "--trace-ids", trace_id)
    assert p.returncode == 0, p.stderr
    [trace] = json.loads(p.stdout)["Traces"]
    sdoc = json.loads(trace["Segments"][0]["Document"])
    assert sdoc["subsegments"][0]["name"] == "query"
    assert sdoc["subsegments"][0]["namespace"] == "remote"


def test_daemon_survives_garbage_and_oversized_datagrams(traced):
    srv = traced["srv"]
    host, port = srv.addrs["xray"].rsplit(":", 1)
    now = time.time()
    trace_id = "1-%08x-%024x" % (int(now), 0x1234)
    good = {"name": "after-garbage", "id": "1a2b3c4d5e6f7081", "trace_id": trace_id,
            "start_time": now, "end_time": now + 0.01}
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        for junk in (b"garbage", b'{"format":"json","version":1}\n{"name":',
                     b'{"format":"json","version":2}\n{}', b"\xff" * 65000):
            s.sendto(junk, (host, int(port)))
        s.sendto(b'{"format": "json", "version": 1}\n' + json.dumps(good).encode(), (host, int(port)))
    doc = srv.wait_trace(trace_id, min_spans=1)
    assert flatten(doc)[0]["name"] == "after-garbage"
    metrics = requests.get(srv.http + "/metrics", timeout=10).text
    assert 'waggle_xray_datagrams_total{result="bad_frame"}' in metrics
    assert 'waggle_xray_datagrams_total{result="bad_document"}' in metrics
