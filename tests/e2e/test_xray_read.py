"""X-Ray reads end to end: traces sent by the Python aws-xray-sdk (XRayMiddleware, as in the seed)
come back through the aws CLI and boto3 as trace summaries filtered by filter expressions, the
seed's Cruddur group, the service graph, trace graphs and time-series statistics."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
import uuid

import botocore.exceptions
import pytest

from test_xray_ingest import AWS_ENV, XrayFlaskApp, root_of, xray_client
from waggle_harness import WaggleServer

USERS = ("user-1001", "user-1002", "user-1003")


def aws_cli(srv: WaggleServer, *args: str) -> dict:
    if shutil.which("aws") is None:
        pytest.skip("aws CLI not installed")
    r = subprocess.run(["aws", "xray", *args, "--endpoint-url", srv.http, "--output", "json"],
                       env={**os.environ, **AWS_ENV}, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout) if r.stdout.strip() else {}


def xray_trace_id(t: float) -> str:
    return f"1-{int(t):08x}-{uuid.uuid4().hex[:24]}"


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """One waggle; four requests through the X-Ray-instrumented app (three users' home
    timelines, one fault); one frontend -> backend-flask trace written with PutTraceSegments;
    the seed's Cruddur group."""
    tmp = tmp_path_factory.mktemp("xray-read")
    srv = WaggleServer(data_dir=tmp / "data", log_dir=tmp / "server").start()
    try:
        start = time.time() - 5
        with XrayFlaskApp(srv.addrs["xray"], tmp / "app") as app:
            ids = {}
            for user in USERS:
                r = app.get("/api/activities/home", {"X-Cruddur-User": user})
                assert r.status_code == 200, r.text
                ids[user] = root_of(r.headers["X-Amzn-Trace-Id"])
            r = app.get("/api/e2e/boom")
            assert r.status_code == 500
            ids["boom"] = root_of(r.headers["X-Amzn-Trace-Id"])
        for trace_id in ids.values():
            srv.wait_trace(trace_id, min_spans=1)
        now = time.time()
        cross = xray_trace_id(now)
        frontend = {"name": "frontend-react-js", "id": "a000000000000001", "trace_id": cross,
                    "start_time": now - 1.0, "end_time": now - 0.5,
                    "http": {"request": {"method": "GET", "url": "http://localhost:3000/"},
                             "response": {"status": 200}},
                    "subsegments": [{"name": "backend-flask", "id": "a000000000000002",
                                     "namespace": "remote", "start_time": now - 0.9,
                                     "end_time": now - 0.6}]}
        backend = {"name": "backend-flask", "id": "b000000000000001", "trace_id": cross,
                   "parent_id": "a000000000000002", "start_time": now - 0.85,
                   "end_time": now - 0.65,
                   "http": {"request": {"method": "GET", "url": "http://backend/api/activities/home"},
                            "response": {"status": 200}}}
        out = aws_cli(srv, "put-trace-segments", "--trace-segment-documents",
                      json.dumps(frontend), json.dumps(backend))
        assert out["UnprocessedTraceSegments"] == []
        srv.wait_trace(cross, min_spans=3)
        aws_cli(srv, "create-group", "--group-name", "Cruddur", "--filter-expression",
                'service("backend-flask")')
        yield {"srv": srv, "ids": ids, "cross": cross, "cross_at": now, "start": int(start),
               "end": int(time.time()) + 5}
    finally:
        srv.stop()


def summaries(world, expression: str | None = None) -> list[dict]:
    args = ["get-trace-summaries", "--start-time", str(world["start"]), "--end-time",
            str(world["end"])]
    if expression is not None:
        args += ["--filter-expression", expression]
    return aws_cli(world["srv"], *args)["TraceSummaries"]


def test_cli_trace_summaries_with_filter_expressions(world):
    ids = world["ids"]
    every = summaries(world)
    assert {s["Id"] for s in every} == set(ids.values()) | {world["cross"]}
    one = summaries(world, 'annotation.user_id = "user-1002"')
    assert [s["Id"] for s in one] == [ids["user-1002"]]
    assert one[0]["EntryPoint"]["Name"] == "backend-flask"
    assert one[0]["Http"]["HttpStatus"] == 200
    assert one[0]["Http"]["HttpMethod"] == "GET"
    assert one[0]["Annotations"]["user_id"][0]["AnnotationValue"]["StringValue"] == "user-1002"
    faults = summaries(world, "fault")
    assert [s["Id"] for s in faults] == [ids["boom"]]
    assert faults[0]["HasFault"] is True and faults[0]["Http"]["HttpStatus"] == 500
    assert faults[0]["FaultRootCauses"], faults[0]
    exceptions = [e for svc in faults[0]["FaultRootCauses"][0]["Services"]
                  for ent in svc["EntityPath"] for e in ent["Exceptions"]]
    assert any(e["Name"] == "ValueError" for e in exceptions), faults[0]["FaultRootCauses"]
    ok_home = summaries(world, 'ok AND http.url CONTAINS "/api/activities/home" AND !partial')
    assert len(ok_home) == 3  # http.* are the entry segment's: not the frontend-led trace
    edges = summaries(world, 'edge("frontend-react-js", "backend-flask")')
    assert [s["Id"] for s in edges] == [world["cross"]]
    grouped = summaries(world, 'group.name = "Cruddur" AND responsetime < 30')
    assert len(grouped) == 5
    # Every trace names where its response time went, starting at its entry service, with each
    # entity's share of the response time.
    timed = [s for s in every if s.get("ResponseTime", 0) > 0]
    assert len(timed) >= 5
    for summary in timed:
        causes = summary["ResponseTimeRootCauses"]
        assert len(causes) == 1, summary
        path = causes[0]["Services"][0]["EntityPath"]
        assert path and all(0 < e["Coverage"] <= 1 for e in path), causes
    backend_led = [s for s in timed if s["Id"] != world["cross"]]
    assert all(s["ResponseTimeRootCauses"][0]["Services"][0]["Name"] == "backend-flask"
               for s in backend_led)
    assert len(summaries(world, 'rootcause.responsetime.service { name = "backend-flask" }')) >= 3


def test_time_range_types_select_by_start_update_or_segment_end(world):
    """boto3's TimeRangeType: around the cross trace's backend segment end (now - 0.65 s) only
    Service finds it; its root starts at now - 1.0 (TraceId) and it ends at now - 0.5 (Event)."""
    client = xray_client(world["srv"])
    at = world["cross_at"]

    def ids(start: float, end: float, kind: str) -> list[str]:
        out = client.get_trace_summaries(StartTime=start, EndTime=end, TimeRangeType=kind)
        return [s["Id"] for s in out["TraceSummaries"]]

    backend_end = (at - 0.70, at - 0.60)
    assert ids(*backend_end, "Service") == [world["cross"]]
    assert ids(*backend_end, "Event") == []
    assert ids(*backend_end, "TraceId") == []
    update = (at - 0.55, at - 0.45)
    assert ids(*update, "Event") == [world["cross"]]
    assert ids(*update, "TraceId") == []
    start = (at - 1.05, at - 0.95)
    assert ids(*start, "TraceId") == [world["cross"]]
    assert ids(*start, "Event") == []


def test_bad_filter_expression_is_an_aws_error_with_its_position(world):
    client = xray_client(world["srv"])
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.get_trace_summaries(StartTime=world["start"], EndTime=world["end"],
                                   FilterExpression='service("backend-flask"')
    err = e.value.response["Error"]
    assert err["Code"] == "InvalidRequestException"
    assert "at 23" in err["Message"], err


def test_cli_service_graph_of_the_cruddur_group(world):
    graph = aws_cli(world["srv"], "get-service-graph", "--start-time", str(world["start"]),
                    "--end-time", str(world["end"]), "--group-name", "Cruddur")
    by_name = {s["Name"]: s for s in graph["Services"]}
    assert set(by_name) == {"backend-flask", "frontend-react-js"}, by_name.keys()
    backend = by_name["backend-flask"]
    stats = backend["SummaryStatistics"]
    assert stats["TotalCount"] == 5
    assert stats["FaultStatistics"]["TotalCount"] == 1
    assert stats["OkCount"] == 4
    assert sum(h["Count"] for h in backend["ResponseTimeHistogram"]) == 5
    frontend = by_name["frontend-react-js"]
    assert frontend["Root"] is True
    [edge] = frontend["Edges"]
    assert edge["ReferenceId"] == backend["ReferenceId"]
    assert edge["SummaryStatistics"]["TotalCount"] == 1
    assert abs(edge["SummaryStatistics"]["TotalResponseTime"] - 0.2) < 0.01


def test_boto3_trace_graph_and_statistics(world):
    client = xray_client(world["srv"])
    graph = client.get_trace_graph(TraceIds=[world["cross"]])
    assert sorted(s["Name"] for s in graph["Services"]) == ["backend-flask", "frontend-react-js"]
    stats = client.get_time_series_service_statistics(
        StartTime=world["start"], EndTime=world["end"], Period=60,
        EntitySelectorExpression='service("backend-flask")')
    points = stats["TimeSeriesServiceStatistics"]
    assert sum(p["ServiceSummaryStatistics"]["TotalCount"] for p in points) == 5
    assert sum(p["ServiceSummaryStatistics"]["FaultStatistics"]["TotalCount"] for p in points) == 1
    with pytest.raises(botocore.exceptions.ClientError) as e:
        client.get_service_graph(StartTime=world["start"], EndTime=world["end"],
                                 GroupName="NoSuchGroup")
    assert e.value.response["Error"]["Code"] == "InvalidRequestException"


def test_unknown_operation_is_an_aws_error_and_the_server_keeps_serving(world):
    import requests
    srv = world["srv"]
    r = requests.post(srv.http + "/GetNothingAtAll", data="{}", timeout=10)
    assert r.status_code == 404
    assert r.headers["x-amzn-ErrorType"] == "UnknownOperationException"
    assert r.json()["__type"] == "UnknownOperationException"
    r = requests.post(srv.http + "/TraceSummaries", data="{not json", timeout=10)
    assert r.status_code == 400 and r.json()["__type"] == "InvalidRequestException"
    assert summaries(world)  # still answering
