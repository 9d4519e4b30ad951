"""Operations as a user meets them: ready file, health endpoints, Prometheus metrics, OTLP
success responses, CORS preflight, graceful SIGTERM, subcommands' --help."""

from __future__ import annotations

import os
import re
import subprocess

import requests
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from otlp_build import trace_batch
from waggle_harness import waggle_bin


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(waggle_bin()), *args], capture_output=True, text=True, timeout=30,
                          env={k: v for k, v in os.environ.items() if not k.startswith("WAGGLE_")})


def test_ready_file_and_health(waggle):
    for key in ("http", "otlp_http", "otlp_grpc", "xray"):
        assert key in waggle.addrs, waggle.addrs
        if key in ("otlp_grpc", "xray") and waggle.addrs[key] == "":
            continue  # listener not served yet by this build: announced as empty
        assert re.fullmatch(r"127\.0\.0\.1:\d+", waggle.addrs[key]), waggle.addrs
        assert not waggle.addrs[key].endswith(":0")
    assert requests.get(waggle.http + "/healthz", timeout=10).status_code == 200
    assert requests.get(waggle.http + "/readyz", timeout=10).status_code == 200


def test_protobuf_success_response_and_metrics(waggle):
    body, expect = trace_batch(10, spans_per_trace=5)
    r = waggle.post_otlp(body)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith("application/x-protobuf")
    resp = ExportTraceServiceResponse.FromString(r.content)
    assert not resp.HasField("partial_success"), resp
    assert waggle.post_otlp(b"\x07bad").status_code == 400
    for tid in expect:
        waggle.wait_trace(tid, min_spans=5)
    m = requests.get(waggle.http + "/metrics", timeout=10)
    assert m.status_code == 200
    assert m.headers["Content-Type"].startswith("text/plain")
    text = m.text
    assert "# TYPE" in text
    received = [float(v) for v in re.findall(
        r"^waggle_spans_received_total(?:\{[^}]*\})? ([0-9.e+]+)$", text, re.M)]
    assert received and sum(received) >= 50, text[:3000]
    rejected = re.findall(r'^waggle_otlp_requests_rejected_total\{[^}]*reason="decode"[^}]*\} ([0-9.e+]+)$',
                          text, re.M)
    assert rejected and float(rejected[0]) >= 1, text[:3000]


def test_cors_preflight(waggle):
    r = requests.options(waggle.otlp_http + "/v1/traces", timeout=10, headers={
        "Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-honeycomb-team"})
    assert r.status_code in (200, 204), r.text
    assert r.headers.get("Access-Control-Allow-Origin") in ("*", "http://localhost:3000")


def test_sigterm_exits_zero_and_keeps_data(waggle_factory, tmp_path):
    data = tmp_path / "d"
    srv = waggle_factory(data_dir=data)
    body, expect = trace_batch(5)
    assert srv.post_otlp(body).status_code == 200
    assert srv.stop() == 0, srv.log_tail()
    srv2 = waggle_factory(data_dir=data)
    for tid in expect:
        srv2.wait_trace(tid, min_spans=3)
    assert srv2.stop() == 0


def test_cli_help_and_version():
    r = run_cli("--help")
    assert r.returncode == 0 and "serve" in r.stdout, r.stdout + r.stderr
    for sub in ("serve", "demo", "trace", "version"):
        r = run_cli(sub, "--help")
        assert r.returncode == 0, (sub, r.stdout, r.stderr)
    r = run_cli("version")
    assert r.returncode == 0 and re.search(r"\d+\.\d+", r.stdout), r.stdout
    r = run_cli("serve", "--help")
    for flag in ("--data-dir", "--http-listen", "--otlp-http-listen", "--otlp-grpc-listen",
                 "--xray-listen", "--api-key", "--retention", "--max-disk", "--ready-file"):
        assert flag in r.stdout, (flag, r.stdout)
    r = run_cli("serve", "--no-such-flag")
    assert r.returncode != 0
