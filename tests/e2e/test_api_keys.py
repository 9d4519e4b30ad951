"""API keys (--api-key): the seed's exporter with a wrong and a right x-honeycomb-team key,
direct OTLP posts, Honeycomb's GET /1/auth, and local mode."""

from __future__ import annotations

import json
import time

import pytest
import requests
from google.rpc import status_pb2

from flask_app import FlaskApp, traceparent
from otlp_build import new_span_id, new_trace_id, trace_batch

GOOD = "e2e0good0key0000000001"
OTHER = "e2e0second0key00000002"
BAD = "e2e0wrong0key000000003"


@pytest.fixture
def keyed(waggle_factory):
    return waggle_factory(api_keys=(GOOD, OTHER))


def test_seed_exporter_wrong_key_rejected_right_key_stored(keyed, tmp_path):
    tw, tr = new_trace_id().hex(), new_trace_id().hex()
    with FlaskApp(keyed.otlp_http, BAD, tmp_path / "app-bad") as app:
        assert app.get("/api/activities/home",
                       {**traceparent(tw, new_span_id().hex()), "X-Cruddur-User": "u-1"}).status_code == 200
        assert app.stop() == 0
        log = app.log()
    # The Python exporter logs the 401 it got (and does not retry it).
    assert "401" in log, log
    with FlaskApp(keyed.otlp_http, GOOD, tmp_path / "app-good") as app:
        assert app.get("/api/activities/home",
                       {**traceparent(tr, new_span_id().hex()), "X-Cruddur-User": "u-2"}).status_code == 200
        assert app.stop() == 0
        assert "Failed to export" not in app.log(), app.log()
    doc = keyed.wait_trace(tr, min_spans=2, key=GOOD)
    assert {s["name"] for s in doc["spans"][0]["children"]} == {"home-activities-mock-data"}
    time.sleep(0.3)
    assert keyed.get_trace(tw, key=GOOD).status_code == 404


def test_direct_post_bad_key_is_401_in_request_content_type(keyed):
    body, expect = trace_batch(1)
    [tid] = expect
    for key in (BAD, None):
        h = {"Content-Type": "application/x-protobuf"}
        if key:
            h["x-honeycomb-team"] = key
        r = requests.post(keyed.otlp_http + "/v1/traces", data=body, headers=h, timeout=10)
        assert r.status_code == 401, (key, r.status_code, r.text)
        assert r.headers["Content-Type"].startswith("application/x-protobuf")
        st = status_pb2.Status.FromString(r.content)
        assert st.message, "401 without a message"
    r = requests.post(keyed.otlp_http + "/v1/traces", data=b"{}", timeout=10,
                      headers={"Content-Type": "application/json", "x-honeycomb-team": BAD})
    assert r.status_code == 401
    assert r.headers["Content-Type"].startswith("application/json")
    assert r.json().get("message")
    assert keyed.get_trace(tid, key=GOOD).status_code == 404
    # Both configured keys are accepted, on both ports.
    r = keyed.post_otlp(body, key=OTHER, port="http")
    assert r.status_code == 200, r.text
    keyed.wait_trace(tid, min_spans=1, key=GOOD)


def test_api_requires_key(keyed):
    body, expect = trace_batch(1)
    [tid] = expect
    assert keyed.post_otlp(body, key=GOOD).status_code == 200
    assert keyed.get_trace(tid, key=GOOD).status_code == 200
    assert keyed.get_trace(tid, key=BAD).status_code == 401
    r = requests.get(f"{keyed.http}/api/v1/traces/{tid}", timeout=10)
    assert r.status_code == 401


def test_honeycomb_auth_endpoint(keyed):
    r = requests.get(keyed.http + "/1/auth", headers={"x-honeycomb-team": GOOD}, timeout=10)
    assert r.status_code == 200, r.text
    doc = r.json()
    # Honeycomb's shape: {"id", "type", "api_key_access": {...}, "environment": {...}, "team": {...}}
    for field in ("api_key_access", "environment", "team"):
        assert field in doc, doc
    r = requests.get(keyed.http + "/1/auth", headers={"x-honeycomb-team": BAD}, timeout=10)
    assert r.status_code == 401
    assert "error" in json.dumps(r.json()).lower() or r.json()
    r = requests.get(keyed.http + "/1/auth", timeout=10)
    assert r.status_code == 401


def test_local_mode_accepts_any_key_from_loopback(waggle):
    r = requests.get(waggle.http + "/1/auth", headers={"x-honeycomb-team": "whatever"}, timeout=10)
    assert r.status_code == 200, r.text
    body, expect = trace_batch(2)
    assert waggle.post_otlp(body, key="some-random-key").status_code == 200
    for tid in expect:
        waggle.wait_trace(tid)
    banner = waggle.log_tail(200).lower()
    assert "local mode" in banner or "local-mode" in banner, banner
