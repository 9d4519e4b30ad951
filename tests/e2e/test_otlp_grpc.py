"""OTLP/gRPC ingest (port 4317's protocol) with the real OpenTelemetry Python gRPC exporter."""

from __future__ import annotations

import requests
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from waggle_harness import by_name


def provider_for(srv, key: str) -> TracerProvider:
    exporter = OTLPSpanExporter(endpoint=srv.addrs["otlp_grpc"], insecure=True,
                                headers=(("x-honeycomb-team", key),), timeout=10)
    provider = TracerProvider(resource=Resource.create({"service.name": "backend-flask"}))
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


def test_grpc_exporter_spans_are_stored_as_a_tree(waggle):
    provider = provider_for(waggle, "any-key")
    tracer = provider.get_tracer("e2e.grpc")
    with tracer.start_as_current_span("GET /api/activities/home") as root:
        with tracer.start_as_current_span("home-activities-mock-data") as child:
            child.set_attribute("app.result_length", 3)
            child.add_event("cache-miss", {"app.key": "home"})
    provider.shutdown()
    trace_id = format(root.get_span_context().trace_id, "032x")
    doc = waggle.wait_trace(trace_id, min_spans=2)
    spans = by_name(doc)
    server = spans["GET /api/activities/home"][0]
    mock = spans["home-activities-mock-data"][0]
    assert server["service.name"] == "backend-flask"
    assert mock["parent_id"] == server["span_id"]
    assert mock["attributes"]["app.result_length"] == 3
    assert [e["name"] for e in mock["events"]] == ["cache-miss"]


def test_grpc_exporter_with_wrong_key_is_refused(waggle_factory):
    srv = waggle_factory(api_keys=("grpc-secret",))
    provider = provider_for(srv, "wrong-key")
    tracer = provider.get_tracer("e2e.grpc")
    with tracer.start_as_current_span("refused") as span:
        pass
    provider.shutdown()
    trace_id = format(span.get_span_context().trace_id, "032x")
    assert srv.get_trace(trace_id).status_code == 404
    metrics = requests.get(f"{srv.http}/metrics", timeout=10).text
    refused = [line for line in metrics.splitlines()
               if line.startswith('waggle_otlp_requests_rejected_total{reason="auth"}')]
    assert refused and float(refused[0].split()[-1]) >= 1, refused

    good = provider_for(srv, "grpc-secret")
    with good.get_tracer("e2e.grpc").start_as_current_span("accepted") as ok_span:
        pass
    good.shutdown()
    srv.wait_trace(format(ok_span.get_span_context().trace_id, "032x"), min_spans=1,
                   key="grpc-secret")
