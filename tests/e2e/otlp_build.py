"""Hand-made OTLP trace requests (protobuf via opentelemetry-proto's classes, and JSON)."""

from __future__ import annotations

import os
import time

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1 import trace_pb2


def new_trace_id() -> bytes:
    return os.urandom(16)


def new_span_id() -> bytes:
    return os.urandom(8)


def kv(key: str, value) -> KeyValue:
    if isinstance(value, bool):
        return KeyValue(key=key, value=AnyValue(bool_value=value))
    if isinstance(value, int):
        return KeyValue(key=key, value=AnyValue(int_value=value))
    if isinstance(value, float):
        return KeyValue(key=key, value=AnyValue(double_value=value))
    return KeyValue(key=key, value=AnyValue(string_value=str(value)))


def make_span(trace_id: bytes, span_id: bytes, parent: bytes = b"", name: str = "op",
              start_ns: int | None = None, dur_ns: int = 1_000_000, kind: int = 1,
              attrs: dict | None = None, error: bool = False) -> trace_pb2.Span:
    start_ns = start_ns if start_ns is not None else time.time_ns()
    s = trace_pb2.Span(trace_id=trace_id, span_id=span_id, parent_span_id=parent, name=name,
                       kind=kind, start_time_unix_nano=start_ns,
                       end_time_unix_nano=start_ns + dur_ns,
                       attributes=[kv(k, v) for k, v in (attrs or {}).items()])
    if error:
        s.status.code = trace_pb2.Status.STATUS_CODE_ERROR
        s.status.message = "boom"
    return s


def make_request(spans_by_service: dict[str, list[trace_pb2.Span]]) -> ExportTraceServiceRequest:
    req = ExportTraceServiceRequest()
    for service, spans in spans_by_service.items():
        rs = req.resource_spans.add()
        rs.resource.attributes.append(kv("service.name", service))
        ss = rs.scope_spans.add()
        ss.scope.name = "waggle-e2e"
        ss.spans.extend(spans)
    return req


def trace_batch(n_traces: int, spans_per_trace: int = 3, service: str = "e2e-svc",
                tag: str = "") -> tuple[bytes, dict[str, set[str]]]:
    """A protobuf body with n_traces traces (a root and its children); also returns
    {trace_id_hex: {span_id_hex, ...}} of what it contains."""
    spans, expect = [], {}
    now = time.time_ns()
    for t in range(n_traces):
        tid = new_trace_id()
        root = new_span_id()
        ids = {root.hex()}
        spans.append(make_span(tid, root, name="root", start_ns=now, dur_ns=5_000_000, kind=2,
                               attrs={"e2e.tag": tag, "e2e.index": t}))
        for c in range(spans_per_trace - 1):
            sid = new_span_id()
            ids.add(sid.hex())
            spans.append(make_span(tid, sid, parent=root, name=f"child-{c}",
                                   start_ns=now + 1000 * (c + 1), kind=3))
        expect[tid.hex()] = ids
    return make_request({service: spans}).SerializeToString(), expect


def json_request(trace_id_hex: str, spans: list[dict], service: str = "json-svc",
                 resource_attrs: list[dict] | None = None) -> dict:
    return {"resourceSpans": [{
        "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": service}}]
                     + (resource_attrs or [])},
        "scopeSpans": [{"scope": {"name": "waggle-e2e-json", "version": "1.0"},
                        "spans": [{"traceId": trace_id_hex, **s} for s in spans]}],
    }]}
