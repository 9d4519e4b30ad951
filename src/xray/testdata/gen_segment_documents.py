# Generates src/xray/testdata/segment_documents.txt: one segment document per line, varied and
# mutated (valid and invalid), for the decoder's golden test.
import json, random, copy
rnd = random.Random(20240611)
T = "1-5759e988-bd862e3fe1be46a994272793"
base = {
  "name": "backend-flask", "id": "70de5b6f19ff9a0a", "trace_id": T,
  "start_time": 1.478293361271E9, "end_time": 1478293361.449,
  "origin": "AWS::EC2::Instance", "user": "user-1001",
  "service": {"version": "1.2.3", "runtime": "CPython", "runtime_version": "3.11"},
  "http": {"request": {"method": "GET", "url": "http://localhost/api/activities/home",
                       "user_agent": "curl/8", "client_ip": "10.0.0.1", "x_forwarded_for": True, "traced": False},
           "response": {"status": 500, "content_length": 42}},
  "aws": {"ec2": {"instance_id": "i-0b5a4678fc325bg98", "availability_zone": "us-west-2c"},
          "xray": {"sdk": "X-Ray for Python", "sdk_version": "2.15.0", "auto_instrumentation": False},
          "region": "us-east-1", "account_id": "123456789012", "operation": "GetItem",
          "cloudwatch_logs": [{"log_group": "g1", "arn": "arn:1"}]},
  "fault": True, "error": False, "throttle": False, "inferred": False, "namespace": "local",
  "precursor_ids": ["1a2b3c4d5e6f7081"],
  "annotations": {"user_id": "user-1001", "count": 3, "ratio": 0.5, "cached": False, "big": 18446744073709551615, "neg": -5, "nul": None},
  "metadata": {"default": {"results": [1, 2.50, {"a": "b\u00e9\n"}]}, "debug": {"x": None}, "plain": 7},
  "cause": {"working_directory": "/app", "paths": ["/app/app.py"],
            "exceptions": [{"id": "1f2e3d4c5b6a7988", "message": "boom", "type": "ValueError",
                            "remote": False, "truncated": 2, "skipped": 1, "cause": "abc",
                            "stack": [{"path": "/app/app.py", "line": 10, "label": "home"}, {"path": "x"}]},
                           {"id": "2f2e3d4c5b6a7988", "message": "second"}]},
  "subsegments": [
    {"name": "home-activities-mock-data", "id": "0f910026178b71eb",
     "start_time": 1478293361.3, "end_time": 1478293361.4,
     "annotations": {"result_length": 3}, "metadata": {"default": {"n": 1}},
     "subsegments": [
       {"name": "api.example.com", "id": "1a2b3c4d5e6f7081", "namespace": "remote",
        "start_time": 1478293361.31, "end_time": 1478293361.39, "error": True,
        "http": {"request": {"method": "POST", "url": "https://api.example.com/x"}, "response": {"status": 404}},
        "cause": "1f2e3d4c5b6a7988"}]},
    {"name": "postgres", "id": "2a2b3c4d5e6f7081", "namespace": "remote",
     "start_time": 1478293361.32, "end_time": 1478293361.35,
     "sql": {"url": "postgres://db", "sanitized_query": "SELECT 1", "database_type": "PostgreSQL", "preparation": "statement"}},
    {"name": "dynamo", "id": "3a2b3c4d5e6f7081", "namespace": "aws", "in_progress": True,
     "start_time": 1478293361.33,
     "aws": {"table_name": "t", "operation": "Query", "retries": 0, "request_id": "r1",
             "a": {"b": {"c": {"d": {"e": {"f": {"g": 1}}}}}}}}]
}
sub = {"type": "subsegment", "trace_id": T, "parent_id": "70de5b6f19ff9a0a", "name": "indep",
       "id": "4a2b3c4d5e6f7081", "start_time": 1478293361.5, "end_time": 1478293361.6,
       "namespace": "aws", "aws": {"operation": "PutItem"}}
inprog = {"name": "svc", "id": "5a2b3c4d5e6f7081", "trace_id": T, "start_time": 1478293361, "in_progress": True}
docs = []
def add(d): docs.append(json.dumps(d, ensure_ascii=False) if not isinstance(d, str) else d)
for d in (base, sub, inprog): add(d)
values = [None, True, False, 1, -1, 1.5, 0, 1e300, "s", "", [], {}, [1], {"a": 1}, {"a": {"b": [1]}}, 18446744073709551615]
def paths(d, prefix=()):
    if isinstance(d, dict):
        for k, v in d.items():
            yield prefix + (k,)
            yield from paths(v, prefix + (k,))
    elif isinstance(d, list):
        for i, v in enumerate(d):
            yield prefix + (i,)
            yield from paths(v, prefix + (i,))
def setp(d, p, v, delete=False):
    for k in p[:-1]: d = d[k]
    if delete:
        del d[p[-1]]
    else:
        d[p[-1]] = v
for root in (base, sub, inprog):
    ps = list(paths(root))
    for p in ps:
        d = copy.deepcopy(root); setp(d, p, None, delete=True); add(d)
    for p in ps:
        for v in rnd.sample(values, 2):
            d = copy.deepcopy(root); setp(d, p, copy.deepcopy(v)); add(d)
for _ in range(100):
    d = copy.deepcopy(base)
    for p in rnd.sample(list(paths(base)), 3):
        try: setp(d, p, copy.deepcopy(rnd.choice(values)))
        except (KeyError, IndexError, TypeError): pass
    add(d)
# Hand-written cases.
s = json.dumps(base)
add('{"name":"a","name":"b","id":"70de5b6f19ff9a0a","id":"zz","trace_id":"%s","start_time":1,"end_time":2,"namespace":"x","namespace":"remote","annotations":{"k":1,"k":2}}' % T)
add('{"\\u006eame":"esc","\\u0069d":"70de5b6f19ff9a0a","trace_id":"%s","start_time":1,"end_time":2,"http":{"request":{"\\u0075rl":"u"}},"annotations":{"\\u00e9t\\u00e9":"\\ud83d\\ude00"}}' % T)
add('{"name":"a","id":"70de5b6f19ff9a0a","trace_id":"%s","start_time":1,"end_time":2,"annotations":{"":1}}' % T)
add('{"name":"a","id":"70de5b6f19ff9a0a","trace_id":"%s","start_time":1,"end_time":2,"annotations":{"":{}}}' % T)
add('{"name":"%s","id":"70de5b6f19ff9a0a","trace_id":"%s","start_time":1,"end_time":2}' % ("\u00e9" * 200, T))
add('{"name":"%s","id":"70de5b6f19ff9a0a","trace_id":"%s","start_time":1,"end_time":2}' % ("\u00e9" * 201, T))
add('{"name":"%s","id":"70de5b6f19ff9a0a","trace_id":"%s","start_time":1,"end_time":2}' % ("x" * 201, T))
for st, et in (("-1", "2"), ("9e9", "9e9"), ("8.9e9", "8.95e9"), ("1.5", "1.4"), ('"1"', "2"), ("1.0000005", "1.0000015"), ("1e-7", "0.1")):
    add('{"name":"a","id":"70de5b6f19ff9a0a","trace_id":"%s","start_time":%s,"end_time":%s}' % (T, st, et))
for tid in ("1-5759e988-bd862e3fe1be46a99427279", "1-00000000-000000000000000000000000", "2-5759e988-bd862e3fe1be46a994272793",
            "1-5759e988xbd862e3fe1be46a994272793", "1-5759E988-BD862E3FE1BE46A994272793", "1-5759e98g-bd862e3fe1be46a994272793", "x" * 100):
    add('{"name":"a","id":"70de5b6f19ff9a0a","trace_id":"%s","start_time":1,"end_time":2}' % tid)
for sid in ("70DE5B6F19FF9A0A", "0000000000000000", "70de5b6f19ff9a0", "70de5b6f19ff9a0ag", "y" * 100):
    add('{"name":"a","id":"%s","trace_id":"%s","start_time":1,"end_time":2}' % (sid, T))
    add('{"name":"a","id":"70de5b6f19ff9a0a","parent_id":"%s","trace_id":"%s","start_time":1,"end_time":2}' % (sid, T))
for typ in ('"segment"', '"subsegment"', '1', 'null', '"%s"' % ("q" * 60)):
    add('{"type":%s,"name":"a","id":"70de5b6f19ff9a0a","trace_id":"%s","start_time":1,"end_time":2}' % (typ, T))
def nest(n):
    d = {"name": "n", "id": "6a2b3c4d5e6f7081", "start_time": 1, "end_time": 2}
    root = d
    for i in range(n):
        c = {"name": "n%d" % i, "id": "6a2b3c4d5e6f70%02x" % (i + 1), "start_time": 1, "end_time": 2}
        d["subsegments"] = [c]; d = c
    root["trace_id"] = T
    return root
for n in (31, 32, 33): add(nest(n))
add({"name": "a", "id": "70de5b6f19ff9a0a", "trace_id": T, "start_time": 1, "end_time": 2,
     "subsegments": [{"name": "s%d" % i, "id": "7a2b3c4d5e6f%04x" % (i + 1), "start_time": 1, "end_time": 2} for i in range(40)]})
add({"name": "a", "id": "70de5b6f19ff9a0a", "trace_id": T, "start_time": 1, "end_time": 2,
     "annotations": {"k%d" % i: i for i in range(2100)}})
for bad in ("", "   ", "[]", "1", "null", '"x"', "{", '{"a":}', '{"name":"a"} x', "\xff"):
    add(bad)
add('{"name":"a","id":"70de5b6f19ff9a0a","trace_id":"%s","start_time":1,"end_time":2,"http":"text","aws":{"region":{"x":1},"account_id":[1]},"sql":{"sanitized_query":null},"service":{"version":{"a":{"b":1}}}}' % T)
add('{"name":"a","id":"70de5b6f19ff9a0a","trace_id":"%s","start_time":1,"end_time":2,"unknown":{"x":1},"subsegments":[1]}' % T)
add('{"name":"a","id":"70de5b6f19ff9a0a","trace_id":"%s","start_time":1,"end_time":2,"subsegments":{}}' % T)
add('{"name":"a","id":"70de5b6f19ff9a0a","trace_id":"%s","start_time":1,"end_time":2,"cause":{"exceptions":{}}}' % T)
add('{"name":"a","id":"70de5b6f19ff9a0a","trace_id":"%s","start_time":1,"end_time":2,"cause":{"exceptions":[1]}}' % T)
add('{"name":"a","id":"70de5b6f19ff9a0a","trace_id":"%s","start_time":1,"end_time":2,"cause":{"exceptions":[{"stack":{}}]}}' % T)
add('{"name":"a","id":"70de5b6f19ff9a0a","trace_id":"%s","start_time":1,"end_time":2,"cause":7}' % T)
add('{"name":"a","id":"70de5b6f19ff9a0a","trace_id":"%s","start_time":1,"end_time":2,"subsegments":[{"name":"b","id":"71de5b6f19ff9a0a","start_time":1,"end_time":2,"subsegments":[{"name":"c","id":"72de5b6f19ff9a0a","start_time":1,"end_time":2,"cause":{"exceptions":[{"message":"m"},{"stack":5}]}}]}]}' % T)
with open("/work/wt-decode/src/xray/testdata/segment_documents.txt", "w") as f:
    for d in docs:
        assert "\n" not in d
        f.write(d + "\n")
print(len(docs))
