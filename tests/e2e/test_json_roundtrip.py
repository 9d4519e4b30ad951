"""OTLP/JSON sent with plain `requests` (hex ids, 64-bit integers as strings, enums as integers,
camelCase) and read back through the trace API with every type and row kind intact."""

from __future__ import annotations

import gzip
import json
import time

import requests

from otlp_build import json_request, new_span_id, new_trace_id
from waggle_harness import flatten

JS = "application/json"


def attr(key, **value):
    return {"key": key, "value": value}


def test_json_round_trip(waggle):
    tid, root_id, child_id = new_trace_id().hex(), new_span_id().hex(), new_span_id().hex()
    link_tid, link_sid = new_trace_id().hex(), new_span_id().hex()
    t0 = time.time_ns() - 5_000_000_000
    spans = [{
        "spanId": root_id,
        "parentSpanId": "",
        "name": "GET /api/activities/home",
        "kind": 2,
        "startTimeUnixNano": str(t0),
        "endTimeUnixNano": str(t0 + 12_500_000),
        "attributes": [
            attr("http.status_code", intValue="200"),
            attr("app.big", intValue="9007199254740993"),    # > 2^53: must not pass through a double
            attr("app.negative", intValue=-42),              # numbers are allowed too
            attr("app.ratio", doubleValue=0.25),
            attr("app.flag", boolValue=True),
            attr("app.text", stringValue='héllo "quoted"\n\ttab ✓'),
            attr("app.list", arrayValue={"values": [{"stringValue": "a"}, {"intValue": "1"}]}),
            attr("app.nested", kvlistValue={"values": [attr("inner", stringValue="v")]}),
            attr("user.id", stringValue="user-4242"),
        ],
        "status": {"code": 2, "message": "boom"},
        "events": [{"timeUnixNano": str(t0 + 1_000_000), "name": "exception",
                    "attributes": [attr("exception.message", stringValue="oops")]}],
        "links": [{"traceId": link_tid, "spanId": link_sid,
                   "attributes": [attr("link.kind", stringValue="follows")]}],
    }, {
        "spanId": child_id.upper(),  # hex decoding is case-insensitive; output is lowercase
        "parentSpanId": root_id,
        "name": "SELECT activities",
        "kind": 3,
        "startTimeUnixNano": str(t0 + 2_000_000),
        "endTimeUnixNano": str(t0 + 7_000_000),
        "attributes": [attr("db.system", stringValue="postgresql")],
    }]
    body = json_request(tid, spans, service="json-svc",
                        resource_attrs=[attr("deployment.environment", stringValue="e2e")])
    r = waggle.post_otlp(json.dumps(body).encode(), content_type=JS)
    assert r.status_code == 200, r.text
    assert r.headers["Content-Type"].startswith(JS)
    assert "partialSuccess" not in r.json() or not r.json()["partialSuccess"].get("rejectedSpans")

    doc = waggle.wait_trace(tid, min_spans=2)
    assert doc["trace_id"] == tid
    [root] = doc["spans"]
    assert root["span_id"] == root_id
    assert [c["span_id"] for c in root["children"]] == [child_id]
    child = root["children"][0]
    assert child["parent_id"] == root_id

    assert root["name"] == "GET /api/activities/home"
    assert root["service.name"] == "json-svc"
    assert str(root["span.kind"]).lower() in ("server", "2")
    assert str(child["span.kind"]).lower() in ("client", "3")
    assert abs(root["duration_ms"] - 12.5) < 1e-6
    assert abs(child["duration_ms"] - 5.0) < 1e-6
    assert str(root["status_code"]).lower() in ("error", "2", "status_code_error")
    assert root["error"] is True and child["error"] is False

    a = root["attributes"]
    assert a["http.status_code"] == 200 and isinstance(a["http.status_code"], int)
    assert a["app.big"] == 9007199254740993
    assert a["app.negative"] == -42
    assert a["app.ratio"] == 0.25 and isinstance(a["app.ratio"], float)
    assert a["app.flag"] is True
    assert a["app.text"] == 'héllo "quoted"\n\ttab ✓'
    assert json.loads(a["app.list"]) == ["a", 1]
    assert a["app.nested.inner"] == "v"
    assert a["user.id"] == "user-4242"
    assert a["deployment.environment"] == "e2e"  # resource attributes are flattened in
    assert child["attributes"]["db.system"] == "postgresql"

    [ev] = root["events"]
    assert ev["name"] == "exception"
    assert (ev.get("attributes") or ev)["exception.message"] == "oops"
    [link] = root["links"]
    assert link_tid in json.dumps(link) and link_sid in json.dumps(link)


def test_json_gzip_on_api_port_and_empty_requests(waggle):
    tid, sid = new_trace_id().hex(), new_span_id().hex()
    t0 = time.time_ns()
    body = json_request(tid, [{"spanId": sid, "name": "gz", "kind": 1,
                               "startTimeUnixNano": str(t0), "endTimeUnixNano": str(t0 + 1000)}])
    r = requests.post(waggle.http + "/v1/traces", data=gzip.compress(json.dumps(body).encode()),
                      headers={"Content-Type": "application/json; charset=utf-8",
                               "Content-Encoding": "gzip", **waggle.headers()}, timeout=10)
    assert r.status_code == 200, r.text
    doc = waggle.wait_trace(tid)
    assert flatten(doc)[0]["name"] == "gz"
    # An export with nothing in it is valid and answered with success.
    for b, ct in ((b"{}", JS), (b"", "application/x-protobuf")):
        r = waggle.post_otlp(b, content_type=ct)
        assert r.status_code == 200, (b, r.status_code, r.text)
