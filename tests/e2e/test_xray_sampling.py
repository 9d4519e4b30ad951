"""X-Ray sampling rules, groups and the SDK's centralized sampling against a real waggle.

The aws CLI v1 (on PATH) and boto3 talk to the API port with --endpoint-url and dummy SigV4
credentials; the Python aws-xray-sdk's DefaultSampler polls rules and targets from the xray TCP
address (the daemon's sampling proxy), exactly as an instrumented Flask app does.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time

import pytest

boto3 = pytest.importorskip("boto3")
botocore_exceptions = pytest.importorskip("botocore.exceptions")

# The seed's aws/json/xray.json, verbatim.
SEED_XRAY_JSON = """{
    "SamplingRule": {
        "RuleName": "Cruddur",
        "ResourceARN": "*",
        "Priority": 9000,
        "FixedRate": 0.1,
        "ReservoirSize": 5,
        "ServiceName": "backend-flask",
        "ServiceType": "*",
        "Host": "*",
        "HTTPMethod": "*",
        "URLPath": "*",
        "Version": 1
    }
  }
"""

DUMMY_AWS_ENV = {"AWS_ACCESS_KEY_ID": "AKIDEXAMPLE", "AWS_SECRET_ACCESS_KEY": "secret",
                 "AWS_DEFAULT_REGION": "us-east-1"}


def xray_client(endpoint: str):
    return boto3.client("xray", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="secret")


def aws_cli(endpoint: str, *args: str, cwd=None) -> subprocess.CompletedProcess:
    if shutil.which("aws") is None:
        pytest.skip("aws CLI not installed")
    env = {**os.environ, **DUMMY_AWS_ENV}
    return subprocess.run(["aws", "xray", *args, "--endpoint-url", endpoint, "--output", "json"],
                          env=env, cwd=cwd, capture_output=True, text=True, timeout=60)


def test_seed_rule_and_group_with_the_aws_cli(waggle, tmp_path):
    (tmp_path / "xray.json").write_text(SEED_XRAY_JSON)
    r = aws_cli(waggle.http, "create-sampling-rule", "--cli-input-json", "file://xray.json",
                cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    rule = json.loads(r.stdout)["SamplingRuleRecord"]["SamplingRule"]
    assert rule["RuleName"] == "Cruddur" and rule["ReservoirSize"] == 5
    assert rule["RuleARN"] == "arn:aws:xray:us-east-1:000000000000:sampling-rule/Cruddur"

    r = aws_cli(waggle.http, "get-sampling-rules")
    assert r.returncode == 0, r.stderr
    names = [rec["SamplingRule"]["RuleName"] for rec in json.loads(r.stdout)["SamplingRuleRecords"]]
    assert names == ["Cruddur", "Default"]

    r = aws_cli(waggle.http, "create-group", "--group-name", "Cruddur",
                "--filter-expression", 'service("backend-flask")')
    assert r.returncode == 0, r.stderr
    group = json.loads(r.stdout)["Group"]
    assert group["GroupName"] == "Cruddur"
    assert group["FilterExpression"] == 'service("backend-flask")'
    assert group["GroupARN"].startswith("arn:aws:xray:us-east-1:000000000000:group/Cruddur/")

    r = aws_cli(waggle.http, "create-group", "--group-name", "Broken",
                "--filter-expression", 'service("backend-flask"')
    assert r.returncode != 0
    assert "InvalidRequestException" in r.stderr, r.stderr
    assert "expected ')' at 23" in r.stderr, r.stderr

    r = aws_cli(waggle.http, "create-sampling-rule", "--cli-input-json", "file://xray.json",
                cwd=tmp_path)
    assert r.returncode != 0 and "already exists" in r.stderr, r.stderr


def test_rules_and_groups_with_boto3_survive_a_restart(waggle_factory, tmp_path):
    srv = waggle_factory(data_dir=tmp_path / "data")
    xray = xray_client(srv.http)
    rule = json.loads(SEED_XRAY_JSON)["SamplingRule"]
    xray.create_sampling_rule(SamplingRule=rule)
    updated = xray.update_sampling_rule(SamplingRuleUpdate={"RuleName": "Cruddur",
                                                            "FixedRate": 0.25,
                                                            "URLPath": "/api/*"})
    assert updated["SamplingRuleRecord"]["SamplingRule"]["FixedRate"] == 0.25
    xray.update_sampling_rule(SamplingRuleUpdate={"RuleName": "Default", "ReservoirSize": 2})
    with pytest.raises(botocore_exceptions.ClientError) as e:
        xray.update_sampling_rule(SamplingRuleUpdate={"RuleName": "Default", "Priority": 1})
    assert e.value.response["Error"]["Code"] == "InvalidRequestException"
    with pytest.raises(botocore_exceptions.ClientError) as e:
        xray.delete_sampling_rule(RuleName="Default")
    assert e.value.response["Error"]["Code"] == "InvalidRequestException"

    arn = xray.create_group(GroupName="Cruddur", FilterExpression='service("backend-flask")',
                            InsightsConfiguration={"InsightsEnabled": False})["Group"]["GroupARN"]
    assert xray.get_group(GroupARN=arn)["Group"]["GroupName"] == "Cruddur"
    xray.update_group(GroupName="Cruddur", FilterExpression='service("backend-flask") AND fault')
    with pytest.raises(botocore_exceptions.ClientError) as e:
        xray.update_group(GroupName="Cruddur", FilterExpression="http.status = \"500\"")
    assert "expected a number at 14" in e.value.response["Error"]["Message"]

    srv.stop()
    srv.start()
    xray = xray_client(srv.http)
    records = {r["SamplingRule"]["RuleName"]: r["SamplingRule"]
               for r in xray.get_sampling_rules()["SamplingRuleRecords"]}
    assert records["Cruddur"]["FixedRate"] == 0.25 and records["Cruddur"]["URLPath"] == "/api/*"
    assert records["Default"]["ReservoirSize"] == 2
    groups = xray.get_groups()["Groups"]
    assert [(g["GroupName"], g["FilterExpression"]) for g in groups] == [
        ("Cruddur", 'service("backend-flask") AND fault')]
    assert groups[0]["InsightsConfiguration"] == {"InsightsEnabled": False}

    deleted = xray.delete_sampling_rule(RuleName="Cruddur")
    assert deleted["SamplingRuleRecord"]["SamplingRule"]["RuleName"] == "Cruddur"
    xray.delete_group(GroupName="Cruddur")
    assert xray.get_groups()["Groups"] == []
    assert [r["SamplingRule"]["RuleName"] for r in xray.get_sampling_rules()["SamplingRuleRecords"]] == ["Default"]


def test_sdk_centralized_sampling_through_the_daemon_proxy(waggle):
    """The SDK keeps ReservoirSize traces per second plus FixedRate of the rest.

    The SDK's target poller normally reports every 10 s; it is set to 1 s (a private attribute)
    so the quota arrives quickly and the test stays under ~15 s. Per wall-clock second the
    reservoir part is exact: min(5, requests that second) must all be sampled (a borrowing client
    without a quota would keep only 1 per second). The rest is Binomial(n, 0.1): with n ≈ 500 the
    standard deviation is ≈ 6.7, and the test allows 4.5 standard deviations (false failure
    probability < 1e-5).
    """
    pytest.importorskip("aws_xray_sdk")
    from aws_xray_sdk.core.context import Context
    from aws_xray_sdk.core.daemon_config import DaemonConfig
    from aws_xray_sdk.core.sampling.sampler import DefaultSampler

    xray_client(waggle.http).create_sampling_rule(
        SamplingRule=json.loads(SEED_XRAY_JSON)["SamplingRule"])

    sampler = DefaultSampler()
    sampler._target_poller._interval = 1  # report every second instead of every 10
    sampler.load_settings(DaemonConfig(waggle.addrs["xray"]), Context())
    request = {"host": "localhost", "method": "GET", "path": "/api/activities/home",
               "service": "backend-flask"}

    def drive(seconds: float, rate: int) -> dict[int, list[bool]]:
        per_second: dict[int, list[bool]] = {}
        end = time.time() + seconds
        while time.time() < end:
            now = int(time.time())
            per_second.setdefault(now, []).append(bool(sampler.should_trace(dict(request))))
            time.sleep(1 / rate)
        return per_second

    sampler.start()
    deadline = time.time() + 10
    while not sampler._cache.rules and time.time() < deadline:
        time.sleep(0.1)
    assert [r.name for r in sampler._cache.rules] == ["Cruddur", "Default"]

    def cruddur():
        return next(r for r in sampler._cache.rules if r.name == "Cruddur")

    warmup_requests = sum(len(v) for v in drive(0.5, 100).values())
    deadline = time.time() + 8
    while cruddur().reservoir.quota != 5 and time.time() < deadline:
        warmup_requests += sum(len(v) for v in drive(0.5, 100).values())
    assert cruddur().reservoir.quota == 5, "no ReservoirQuota from GetSamplingTargets"
    assert cruddur().rate == 0.1

    measured = drive(6, 100)
    seconds = sorted(measured)[1:-1]  # whole seconds only
    total = sum(len(measured[s]) for s in seconds)
    sampled = sum(sum(measured[s]) for s in seconds)
    reservoir = sum(min(5, len(measured[s])) for s in seconds)
    for s in seconds:
        assert sum(measured[s]) >= min(5, len(measured[s])), (s, measured[s].count(True))
    rest = total - reservoir
    expected_fixed = 0.1 * rest
    sd = (rest * 0.1 * 0.9) ** 0.5
    assert abs((sampled - reservoir) - expected_fixed) <= 4.5 * sd + 1, (
        f"{sampled} sampled of {total}: reservoir {reservoir}, fixed-rate part "
        f"{sampled - reservoir}, expected {expected_fixed:.1f} ± {4.5 * sd:.1f}")

    # Every decision was reported back and shows in the statistics summaries.
    made = warmup_requests + sum(len(v) for v in measured.values())
    xray = xray_client(waggle.http)
    deadline = time.time() + 5
    reported = 0
    while time.time() < deadline:
        summaries = {s["RuleName"]: s for s in
                     xray.get_sampling_statistic_summaries()["SamplingStatisticSummaries"]}
        reported = summaries.get("Cruddur", {}).get("RequestCount", 0)
        if reported >= made:
            break
        time.sleep(0.5)
    assert reported == made
