"""The seed's OpenTelemetry setup (backend-flask → Honeycomb) pointed at waggle instead.

The app is the bootcamp's own code: FlaskInstrumentor, RequestsInstrumentor,
BatchSpanProcessor(OTLPSpanExporter()), the custom span `home-activities-mock-data`, configured
only through OTEL_SERVICE_NAME / OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_EXPORTER_OTLP_HEADERS.
"""

from __future__ import annotations

import os
import subprocess
from datetime import datetime

import pytest

from flask_app import FlaskApp, traceparent
from otlp_build import new_span_id, new_trace_id
from waggle_harness import WaggleServer, by_name, flatten, is_null_parent, parent_map, waggle_bin

SERVER_SPAN_NAMES = {"GET /api/activities/home", "/api/activities/home", "data_home"}


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """One waggle (local mode) and three requests through the seed's app:
    t1: /api/activities/home with an incoming traceparent (as from the React front end),
    t2: /api/activities/home with no incoming context (a new root trace),
    t3: /api/e2e/home-via-http: Flask → requests → Flask → custom span (4 spans)."""
    tmp = tmp_path_factory.mktemp("seed")
    srv = WaggleServer(data_dir=tmp / "data", log_dir=tmp / "server-1").start()
    try:
        t1, p1 = new_trace_id().hex(), new_span_id().hex()
        t3, p3 = new_trace_id().hex(), new_span_id().hex()
        with FlaskApp(srv.otlp_http, "any-local-key", tmp / "app") as app:
            r = app.get("/api/activities/home", {**traceparent(t1, p1), "X-Cruddur-User": "user-1001"})
            assert r.status_code == 200 and len(r.json()) == 3, r.text
            r = app.get("/api/activities/home", {"X-Cruddur-User": "user-1002"})
            assert r.status_code == 200
            r = app.get("/api/e2e/home-via-http", {**traceparent(t3, p3), "X-Cruddur-User": "user-1003"})
            assert r.status_code == 200 and len(r.json()) == 3, r.text
            rc = app.stop()  # flushes the BatchSpanProcessor
            assert rc == 0, app.log()
            assert "Failed to export" not in app.log(), app.log()
        yield {"srv": srv, "t1": t1, "p1": p1, "t3": t3, "p3": p3}
    finally:
        srv.stop()


def check_custom_span(span: dict, user: str) -> None:
    attrs = span["attributes"]
    assert span["service.name"] == "backend-flask"
    assert isinstance(attrs["app.now"], str)
    datetime.fromisoformat(attrs["app.now"])  # the isoformat() string survives unchanged
    assert attrs["app.result_length"] == 3 and isinstance(attrs["app.result_length"], int)
    assert attrs["app.user_id"] == user
    assert span["error"] is False


def check_server_span(span: dict) -> None:
    assert span["name"] in SERVER_SPAN_NAMES, span["name"]
    assert span["service.name"] == "backend-flask"
    assert str(span["span.kind"]).lower() in ("server", "2", "span_kind_server")
    attrs = span["attributes"]
    assert any("/api/activities/home" in str(attrs.get(k, ""))
               for k in ("http.route", "http.target", "url.path")), attrs
    assert span["error"] is False
    assert span["duration_ms"] >= 0


def test_trace_with_incoming_context(seeded):
    srv, t1, p1 = seeded["srv"], seeded["t1"], seeded["p1"]
    doc = srv.wait_trace(t1, min_spans=2)
    assert doc["trace_id"] == t1
    spans = flatten(doc)
    assert len(spans) == 2, doc
    names = by_name(doc)
    [server] = [s for s in spans if s["name"] in SERVER_SPAN_NAMES]
    [custom] = names["home-activities-mock-data"]
    check_server_span(server)
    check_custom_span(custom, "user-1001")
    # The server span's parent is the front end's span (not stored): it is the tree's root.
    assert server["parent_id"] == p1
    assert doc["spans"][0]["span_id"] == server["span_id"]
    assert custom["parent_id"] == server["span_id"]
    assert parent_map(doc)[custom["span_id"]] == server["span_id"]
    assert custom["duration_ms"] <= server["duration_ms"]
    assert custom["events"] == [] and custom["links"] == []
    assert str(custom["span.kind"]).lower() in ("internal", "1", "span_kind_internal")


def test_new_root_trace_found_in_recent_list(seeded):
    srv = seeded["srv"]
    ids = srv.recent_trace_ids(limit=50)
    others = [t for t in ids if t not in (seeded["t1"], seeded["t3"])]
    assert len(others) == 1, ids
    doc = srv.wait_trace(others[0], min_spans=2)
    spans = flatten(doc)
    assert len(spans) == 2
    [server] = [s for s in spans if s["name"] in SERVER_SPAN_NAMES]
    [custom] = by_name(doc)["home-activities-mock-data"]
    assert is_null_parent(server["parent_id"])
    assert custom["parent_id"] == server["span_id"]
    check_custom_span(custom, "user-1002")


def test_traces_whose_root_is_elsewhere_are_listed(seeded):
    """t1 and t3 continue a front-end trace (their root span lives in the browser and never
    reached waggle); the recent-traces list must show them too (Honeycomb: 'missing root')."""
    ids = seeded["srv"].recent_trace_ids(limit=50)
    assert seeded["t1"] in ids and seeded["t3"] in ids, ids


def test_requests_instrumentor_propagation(seeded):
    srv, t3, p3 = seeded["srv"], seeded["t3"], seeded["p3"]
    doc = srv.wait_trace(t3, min_spans=4)
    spans = flatten(doc)
    assert len(spans) == 4, doc
    ids = {s["span_id"]: s for s in spans}
    [custom] = by_name(doc)["home-activities-mock-data"]
    inner = ids[custom["parent_id"]]
    check_server_span(inner)
    client = ids[inner["parent_id"]]
    assert str(client["span.kind"]).lower() in ("client", "3", "span_kind_client")
    assert client["name"].startswith("GET")
    outer = ids[client["parent_id"]]
    assert "home-via-http" in outer["name"] or outer["name"].startswith("GET")
    assert outer["parent_id"] == p3
    check_custom_span(custom, "user-1003")
    # The tree nests them in that order.
    pm = parent_map(doc)
    assert pm[custom["span_id"]] == inner["span_id"]
    assert pm[inner["span_id"]] == client["span_id"]
    assert pm[client["span_id"]] == outer["span_id"]
    assert pm[outer["span_id"]] is None


def test_unknown_trace_is_404(seeded):
    r = seeded["srv"].get_trace(new_trace_id().hex())
    assert r.status_code == 404


def test_waggle_trace_cli_prints_waterfall(seeded):
    srv, t3 = seeded["srv"], seeded["t3"]
    srv.wait_trace(t3, min_spans=4)
    out = subprocess.run([str(waggle_bin()), "trace", t3, "--server", srv.addrs["http"]],
                         capture_output=True, text=True, timeout=30,
                         env={k: v for k, v in os.environ.items() if not k.startswith("WAGGLE_")})
    assert out.returncode == 0, out.stdout + out.stderr
    text = out.stdout
    assert "home-activities-mock-data" in text and "backend-flask" in text, text
    # The custom span is printed after (below) its ancestors.
    assert text.index("home-activities-mock-data") > text.index("backend-flask")
