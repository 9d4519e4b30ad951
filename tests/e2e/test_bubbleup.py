"""BubbleUp (POST /api/v1/bubbleup) on spans sent with the real OpenTelemetry Python SDK.

Slow spans share `app.region = "eu-west"`; BubbleUp over the slow region of the duration heatmap
must rank app.region first, from the in-memory head and, after a restart, from segment files.
"""

from __future__ import annotations

import time

import requests
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

SPANS = 300
SLOW_EVERY = 10  # every 10th span is slow
MS = 1_000_000


def send_spans(srv) -> None:
    exporter = OTLPSpanExporter(endpoint=srv.otlp_http + "/v1/traces",
                                headers=srv.headers(), timeout=10)
    provider = TracerProvider(resource=Resource.create({"service.name": "checkout"}))
    provider.add_span_processor(BatchSpanProcessor(exporter, max_export_batch_size=100))
    tracer = provider.get_tracer("e2e.bubbleup")
    base = time.time_ns() - 60 * 1_000_000_000
    for i in range(SPANS):
        slow = i % SLOW_EVERY == 0
        start = base + i * 10 * MS
        span = tracer.start_span("POST /cart", start_time=start)
        # Every slow span is in eu-west; of the fast ones, one in nine.
        span.set_attribute("app.region", "eu-west" if slow or i % 9 == 0 else "us-east")
        span.set_attribute("app.user_id", f"user-{i}")
        span.set_attribute("app.items", i % 4)
        span.end(end_time=start + (800 if slow else 5) * MS)
    assert provider.force_flush(30_000)
    provider.shutdown()


def bubbleup(srv, body: dict) -> requests.Response:
    return requests.post(f"{srv.http}/api/v1/bubbleup", json=body, headers=srv.headers(),
                         timeout=30)


SLOW_REGION = {"dataset": "checkout", "query": {"time_range": 3600},
               "selection": {"duration_ms": [500, 1000]}}


def wait_all_rows(srv) -> dict:
    deadline = time.time() + 20
    while True:
        r = bubbleup(srv, SLOW_REGION)
        assert r.status_code == 200, r.text
        doc = r.json()
        if doc["selection"]["rows"] + doc["baseline"]["rows"] == SPANS or time.time() > deadline:
            return doc
        time.sleep(0.2)


def check_region_ranks_first(doc: dict) -> None:
    assert doc["selection"]["rows"] == SPANS // SLOW_EVERY
    assert doc["baseline"]["rows"] == SPANS - SPANS // SLOW_EVERY
    names = [c["column"] for c in doc["columns"]]
    assert names[0] == "app.region", names
    assert "duration_ms" not in names and "trace.trace_id" not in names
    top = doc["columns"][0]["buckets"][0]
    assert top["value"] == "eu-west"
    assert top["selection"] == {"count": 30, "fraction": 1.0}
    fast_eu = sum(1 for i in range(SPANS) if i % SLOW_EVERY and i % 9 == 0)
    assert top["baseline"]["count"] == fast_eu
    assert abs(doc["columns"][0]["score"] - (1.0 - fast_eu / 270)) < 1e-9


def test_bubbleup_ranks_the_shared_attribute_first_before_and_after_restart(waggle_factory,
                                                                             tmp_path):
    data = tmp_path / "data"
    srv = waggle_factory(data_dir=data)
    send_spans(srv)
    before = wait_all_rows(srv)
    check_region_ranks_first(before)
    assert srv.stop() == 0

    srv2 = waggle_factory(data_dir=data)  # the head was flushed: rows now come from segments
    after = wait_all_rows(srv2)
    check_region_ranks_first(after)
    assert after["columns"] == before["columns"]

    by_filter = bubbleup(srv2, {"dataset": "checkout", "query": {"time_range": 3600},
                                "selection": {"filters": [
                                    {"column": "app.region", "op": "=", "value": "eu-west"}]},
                                "columns": ["duration_ms"], "limit": 3})
    assert by_filter.status_code == 200, by_filter.text
    cols = by_filter.json()["columns"]
    assert [c["column"] for c in cols] == ["duration_ms"]
    assert len(cols[0]["buckets"]) <= 3 and "range" in cols[0]["buckets"][0]


def test_bubbleup_bad_requests_name_the_field(waggle):
    r = bubbleup(waggle, {"selection": {"duration_ms": [10, 1]}})
    assert r.status_code == 400 and "selection.duration_ms" in r.json()["error"], r.text
    r = bubbleup(waggle, {"selection": {"filters": [{"column": "x", "op": "~~"}]}})
    assert r.status_code == 400 and r.json()["error"].startswith("selection.filters[0].op"), r.text
    r = bubbleup(waggle, {"query": {"time_range": "1h"}, "selection": {"duration_ms": [1, 2]}})
    assert r.status_code == 400 and r.json()["error"].startswith("query.time_range"), r.text
    assert requests.get(f"{waggle.http}/api/v1/bubbleup", headers=waggle.headers(),
                        timeout=10).status_code == 405
