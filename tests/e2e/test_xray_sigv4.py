"""SigV4 verification of the X-Ray REST API (`--aws-credentials`) against a real waggle.

The server accepts one key pair, AKIDTEST:secretkey. boto3 and the aws CLI v1 signing with it
are served; a wrong secret, an unknown key or no signature at all get AWS's 403 errors. The
X-Ray daemon's TCP sampling proxy stays unsigned, as the SDKs call it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
import requests

boto3 = pytest.importorskip("boto3")
botocore_config = pytest.importorskip("botocore.config")
botocore_exceptions = pytest.importorskip("botocore.exceptions")

KEY_ID = "AKIDTEST"
SECRET = "secretkey"
CREDENTIALS_ARGS = ("--aws-credentials", f"{KEY_ID}:{SECRET}")


def xray_client(endpoint: str, key_id: str = KEY_ID, secret: str = SECRET):
    return boto3.client("xray", endpoint_url=endpoint, region_name="eu-west-1",
                        aws_access_key_id=key_id, aws_secret_access_key=secret,
                        config=botocore_config.Config(retries={"max_attempts": 1}))


def aws_cli(endpoint: str, *args: str, secret: str = SECRET) -> subprocess.CompletedProcess:
    if shutil.which("aws") is None:
        pytest.skip("aws CLI not installed")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update({"AWS_ACCESS_KEY_ID": KEY_ID, "AWS_SECRET_ACCESS_KEY": secret,
                "AWS_DEFAULT_REGION": "us-east-1", "AWS_MAX_ATTEMPTS": "1",
                "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null"})
    return subprocess.run(["aws", "xray", *args, "--endpoint-url", endpoint, "--output", "json"],
                          env=env, capture_output=True, text=True, timeout=60)


def error_code(call) -> str:
    with pytest.raises(botocore_exceptions.ClientError) as e:
        call()
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    return e.value.response["Error"]["Code"]


@pytest.fixture
def signed_waggle(waggle_factory, tmp_path):
    return waggle_factory(data_dir=tmp_path / "data", extra_args=CREDENTIALS_ARGS)


def test_boto3_with_the_right_key_is_served_and_groups_persist(signed_waggle):
    srv = signed_waggle
    xray = xray_client(srv.http)
    names = [r["SamplingRule"]["RuleName"] for r in xray.get_sampling_rules()["SamplingRuleRecords"]]
    assert names == ["Default"]
    group = xray.create_group(GroupName="Cruddur",
                              FilterExpression='service("backend-flask")')["Group"]
    assert group["GroupARN"].startswith("arn:aws:xray:eu-west-1:000000000000:group/Cruddur/")

    doc = json.dumps({"name": "backend-flask", "id": "70de5b6f19ff9a0a",
                      "trace_id": "1-5759e988-bd862e3fe1be46a994272793",
                      "start_time": 1465510000.0, "end_time": 1465510000.5})
    put = xray.put_trace_segments(TraceSegmentDocuments=[doc])
    assert put["UnprocessedTraceSegments"] == []

    srv.stop()
    srv.start()
    xray = xray_client(srv.http)
    assert [g["GroupName"] for g in xray.get_groups()["Groups"]] == ["Cruddur"]
    traces = xray.batch_get_traces(TraceIds=["1-5759e988-bd862e3fe1be46a994272793"])["Traces"]
    assert [s["Id"] for s in traces[0]["Segments"]] == ["70de5b6f19ff9a0a"]


def test_boto3_with_a_wrong_secret_or_unknown_key_is_refused(signed_waggle):
    srv = signed_waggle
    wrong = xray_client(srv.http, secret="not-the-secret")
    assert error_code(wrong.get_sampling_rules) == "InvalidSignatureException"
    assert error_code(lambda: wrong.create_group(GroupName="Nope")) == "InvalidSignatureException"
    unknown = xray_client(srv.http, key_id="AKIDOTHER")
    assert error_code(unknown.get_groups) == "UnrecognizedClientException"
    # Nothing was created by the refused calls.
    assert xray_client(srv.http).get_groups()["Groups"] == []


def test_aws_cli_with_right_and_wrong_secret(signed_waggle):
    srv = signed_waggle
    ok = aws_cli(srv.http, "get-sampling-rules")
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["SamplingRuleRecords"][0]["SamplingRule"]["RuleName"] == "Default"

    created = aws_cli(srv.http, "create-group", "--group-name", "FromCli")
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["Group"]["GroupName"] == "FromCli"

    bad = aws_cli(srv.http, "get-sampling-rules", secret="wrong")
    assert bad.returncode != 0
    assert "InvalidSignatureException" in bad.stderr, bad.stderr
    assert "does not match the signature you provided" in bad.stderr, bad.stderr

    bad_create = aws_cli(srv.http, "create-group", "--group-name", "Nope", secret="wrong")
    assert bad_create.returncode != 0 and "InvalidSignatureException" in bad_create.stderr
    listed = aws_cli(srv.http, "get-groups")
    assert [g["GroupName"] for g in json.loads(listed.stdout)["Groups"]] == ["FromCli"]


def test_unsigned_requests_get_aws_errors_but_the_daemon_proxy_stays_open(signed_waggle):
    srv = signed_waggle
    for path in ("/GetSamplingRules", "/TraceSegments", "/TraceSummaries"):
        r = requests.post(srv.http + path, json={}, timeout=10)
        assert r.status_code == 403, (path, r.text)
        assert r.headers["x-amzn-ErrorType"] == "MissingAuthenticationTokenException"
        # botocore reads `message` or `Message`; waggle sends both spellings.
        assert r.json() == {"__type": "MissingAuthenticationTokenException",
                            "message": "Missing Authentication Token",
                            "Message": "Missing Authentication Token"}
    garbled = requests.post(srv.http + "/GetSamplingRules", json={}, timeout=10,
                            headers={"Authorization": "AWS4-HMAC-SHA256 Credential=x"})
    assert garbled.status_code == 403
    assert garbled.json()["__type"] == "IncompleteSignatureException"

    # The daemon's TCP port: the SDKs' unsigned sampling calls keep working.
    proxy = requests.post(f"http://{srv.addrs['xray']}/GetSamplingRules", json={}, timeout=10)
    assert proxy.status_code == 200, proxy.text
    # waggle's own API is unaffected (local mode, loopback).
    assert requests.get(srv.http + "/api/v1/traces", timeout=10).status_code == 200
    assert "SigV4 signatures verified on the API port (1 AWS key(s))" in srv.log_tail(200)


def test_without_credentials_signatures_are_not_checked(waggle):
    names = [r["SamplingRule"]["RuleName"]
             for r in xray_client(waggle.http, secret="anything").get_sampling_rules()[
                 "SamplingRuleRecords"]]
    assert names == ["Default"]
    assert requests.post(waggle.http + "/GetSamplingRules", json={}, timeout=10).status_code == 200
    assert "SigV4 signatures not checked" in waggle.log_tail(200)
