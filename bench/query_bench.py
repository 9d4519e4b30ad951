#!/usr/bin/env python3
"""The side-by-side query benchmark of issue 3 (run it through bench/run_query.sh).

Asks the same questions of
  * waggle, through its HTTP APIs: Honeycomb's Query Data API (POST /1/queries/{dataset} then
    POST /1/query_results/{dataset}, both timed as one round trip), trace search
    (POST /api/v1/traces/search) and trace by id (GET /api/v1/traces/{id});
  * chdb (ClickHouse 26.x in-process, a persistent session): Map(LowCardinality(String), ...)
    attributes, codecs, a bloom_filter skip index on trace_id;
  * Debian's clickhouse-server 18.16 over its HTTP interface: attributes as parallel key/value
    arrays (no Map type, no codecs, no skip indexes in 18.16),
times each (1 warm-up + --runs timed runs, median), checks that the answers agree, and prints a
table (optionally also written to bench/RESULTS.md).

Subcommands:
  load-ch18  --ch-http HOST:PORT --tsv F --key K     create + load the 18.16 table (skipped when
                                                     loaded with the same key)
  load-chdb  --chdb-path DIR --tsv F --key K         the same for chdb
  run        --waggle HOST:PORT --ch-http HOST:PORT --chdb-path DIR --end-epoch E --spans N
             --trace-ids F --waggle-data DIR [--runs 5] [--write-results FILE] [--only a,b]
"""

import argparse
import datetime
import http.client
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
import urllib.parse

TSV_SCHEMA = (
    "trace_id String, span_id String, parent_span_id String, start_ns Int64, duration_ns UInt64, "
    "service String, name String, kind Int8, status_code Int8, status_message String, "
    "str_keys Array(String), str_values Array(String), num_keys Array(String), "
    "num_values Array(Float64), res_keys Array(String), res_values Array(String)")

# ClickHouse 18.16: no Map, no codecs, no skip indexes; LowCardinality behind a setting.
CH18_DDL = """
CREATE TABLE spans (
  trace_id FixedString(32),
  span_id FixedString(16),
  parent_span_id String,
  start_ns UInt64,
  duration_ns UInt64,
  service LowCardinality(String),
  name LowCardinality(String),
  kind Int8,
  status_code Int8,
  status_message String,
  attr_keys Array(String),
  attr_values Array(String),
  num_keys Array(String),
  num_values Array(Float64),
  res_keys Array(String),
  res_values Array(String)
) ENGINE = MergeTree
ORDER BY (service, name, start_ns)
"""

# ClickHouse 26.x (chdb): the SigNoz/Uptrace shape with today's features.
CHDB_DDL = """
CREATE TABLE spans (
  timestamp DateTime64(9) CODEC(DoubleDelta, ZSTD(1)),
  trace_id FixedString(32) CODEC(ZSTD(1)),
  span_id FixedString(16) CODEC(ZSTD(1)),
  parent_span_id String CODEC(ZSTD(1)),
  duration_ns UInt64 CODEC(T64, ZSTD(1)),
  service LowCardinality(String) CODEC(ZSTD(1)),
  name LowCardinality(String) CODEC(ZSTD(1)),
  kind Int8 CODEC(T64, ZSTD(1)),
  status_code Int8 CODEC(T64, ZSTD(1)),
  status_message String CODEC(ZSTD(1)),
  attributes_string Map(LowCardinality(String), String) CODEC(ZSTD(1)),
  attributes_number Map(LowCardinality(String), Float64) CODEC(ZSTD(1)),
  resources_string Map(LowCardinality(String), String) CODEC(ZSTD(1)),
  INDEX idx_trace_id trace_id TYPE bloom_filter(0.001) GRANULARITY 1,
  INDEX idx_duration duration_ns TYPE minmax GRANULARITY 1
) ENGINE = MergeTree
PARTITION BY toDate(timestamp)
ORDER BY (service, name, timestamp)
"""

CHDB_INSERT = """
INSERT INTO spans SELECT
  fromUnixTimestamp64Nano(start_ns), trace_id, span_id, parent_span_id, duration_ns, service, name,
  kind, status_code, status_message, mapFromArrays(str_keys, str_values),
  mapFromArrays(num_keys, num_values), mapFromArrays(res_keys, res_values)
FROM file('{tsv}', 'TabSeparated', '{schema}')
"""

HEATMAP_BUCKETS = 50          # waggle's kHeatmapBuckets
HLL_RELATIVE_ERROR = 0.0081   # waggle's kCountDistinctRelativeError
PERCENTILE_TOLERANCE = 0.01   # waggle nearest-rank vs ClickHouse quantileExact, relative


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# Clients.

class Http:
    """One keep-alive HTTP/1.1 connection, reopened on failure."""

    def __init__(self, hostport, timeout=900):
        host, port = hostport.rsplit(":", 1)
        self.host, self.port, self.timeout = host, int(port), timeout
        self.conn = None

    def request(self, method, path, body=None, headers=None):
        for attempt in (0, 1):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
                self.conn.request(method, path, body=body, headers=headers or {})
                resp = self.conn.getresponse()
                data = resp.read()
                if (resp.getheader("Connection") or "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return resp.status, data
            except (http.client.HTTPException, OSError):
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
                if attempt or body is not None and hasattr(body, "read"):
                    raise


class QueryError(Exception):
    pass


class Ch18:
    name = "clickhouse-18.16"

    def __init__(self, hostport):
        self.http = Http(hostport)

    def raw(self, sql):
        status, data = self.http.request("POST", "/", body=sql.encode())
        if status != 200:
            raise QueryError(f"clickhouse-18.16: HTTP {status}: {data[:500].decode(errors='replace')}")
        return data

    def query(self, sql):
        return self.raw(sql + "\nFORMAT JSONCompact")

    def rows(self, sql):
        return json.loads(self.query(sql))["data"]

    def insert_file(self, table, path):
        size = os.path.getsize(path)
        q = urllib.parse.quote(f"INSERT INTO {table} FORMAT TabSeparated")
        with open(path, "rb") as f:
            status, data = self.http.request("POST", f"/?query={q}", body=f,
                                             headers={"Content-Length": str(size)})
        if status != 200:
            raise QueryError(f"clickhouse-18.16 insert: HTTP {status}: {data[:500].decode(errors='replace')}")


class Chdb:
    name = "chdb"

    def __init__(self, path):
        from chdb import session  # imported here so load-ch18 works without chdb
        self.session = session.Session(path)

    def raw(self, sql):
        try:
            return self.session.query(sql, "JSONCompact")
        except Exception as e:  # chdb raises its own error types
            raise QueryError(f"chdb: {e}") from None

    def query(self, sql):
        res = self.raw(sql)
        return res.bytes() if hasattr(res, "bytes") else bytes(str(res), "utf-8")

    def rows(self, sql):
        data = self.query(sql)
        return json.loads(data)["data"] if data.strip() else []

    def version(self):
        return self.rows("SELECT version()")[0][0]


class Waggle:
    name = "waggle"

    def __init__(self, hostport):
        self.http = Http(hostport)

    def _post(self, path, obj):
        status, data = self.http.request("POST", path, body=json.dumps(obj).encode(),
                                         headers={"Content-Type": "application/json"})
        if status not in (200, 201):
            raise QueryError(f"waggle: POST {path}: HTTP {status}: {data[:500].decode(errors='replace')}")
        return data

    def run_query(self, dataset, spec, disable_series):
        """Create + run one query; returns the raw result body (polls while not complete)."""
        ds = urllib.parse.quote(dataset, safe="")
        q = json.loads(self._post(f"/1/queries/{ds}", spec))
        data = self._post(f"/1/query_results/{ds}",
                          {"query_id": q["id"], "disable_series": disable_series})
        doc = json.loads(data)
        while not doc.get("complete", False):
            time.sleep(0.01)
            status, data = self.http.request("GET", f"/1/query_results/{ds}/{doc['id']}")
            if status != 200:
                raise QueryError(f"waggle: GET query_results: HTTP {status}")
            doc = json.loads(data)
        return data

    def search(self, body):
        return self._post("/api/v1/traces/search", body)

    def bubbleup(self, body):
        return self._post("/api/v1/bubbleup", body)

    def trace(self, trace_id):
        status, data = self.http.request("GET", f"/api/v1/traces/{trace_id}")
        if status != 200:
            raise QueryError(f"waggle: GET trace {trace_id}: HTTP {status}: {data[:300].decode(errors='replace')}")
        return data


# ---------------------------------------------------------------------------------------------
# Loading the ClickHouse peers.

def marker_ok(path, key):
    try:
        with open(path) as f:
            return f.read().strip() == key
    except OSError:
        return False


def load_ch18(args):
    ch = Ch18(args.ch_http)
    marker = args.marker
    if marker_ok(marker, args.key):
        n = int(ch.rows("SELECT count() FROM spans")[0][0])
        if n == args.spans:
            log(f"clickhouse-18.16: table already loaded ({n} rows)")
            return 0
    t0 = time.time()
    ch.raw("DROP TABLE IF EXISTS spans")
    ch.raw(CH18_DDL)
    ch.insert_file("spans", args.tsv)
    t1 = time.time()
    ch.raw("OPTIMIZE TABLE spans FINAL")
    n = int(ch.rows("SELECT count() FROM spans")[0][0])
    log(f"clickhouse-18.16: loaded {n} rows in {t1 - t0:.1f} s, OPTIMIZE FINAL {time.time() - t1:.1f} s")
    if n != args.spans:
        log(f"clickhouse-18.16: expected {args.spans} rows")
        return 1
    with open(marker, "w") as f:
        f.write(args.key + "\n")
    return 0


def load_chdb(args):
    db = Chdb(args.chdb_path)
    marker = args.marker
    if marker_ok(marker, args.key):
        try:
            n = int(db.rows("SELECT count() FROM spans")[0][0])
        except QueryError:
            n = -1
        if n == args.spans:
            log(f"chdb: table already loaded ({n} rows)")
            return 0
    t0 = time.time()
    db.raw("DROP TABLE IF EXISTS spans")
    db.raw(CHDB_DDL)
    db.raw(CHDB_INSERT.format(tsv=args.tsv, schema=TSV_SCHEMA))
    t1 = time.time()
    db.raw("OPTIMIZE TABLE spans FINAL")
    n = int(db.rows("SELECT count() FROM spans")[0][0])
    log(f"chdb {db.version()}: loaded {n} rows in {t1 - t0:.1f} s, OPTIMIZE FINAL {time.time() - t1:.1f} s")
    if n != args.spans:
        log(f"chdb: expected {args.spans} rows")
        return 1
    with open(marker, "w") as f:
        f.write(args.key + "\n")
    return 0


# ---------------------------------------------------------------------------------------------
# The questions. Each system's function returns a normalized answer; compare() checks two.

def rfc3339_seconds(s):
    s = s.rstrip("Z")
    if "." in s:
        s = s.split(".")[0]
    return int(datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S")
               .replace(tzinfo=datetime.timezone.utc).timestamp())


def waggle_data(raw):
    doc = json.loads(raw)
    return doc.get("data") or {}


class Ctx:
    def __init__(self, end_epoch):
        self.end = end_epoch
        self.start = end_epoch - 7200
        a, b = self.start * 10**9, self.end * 10**9
        self.w18 = f"start_ns >= {a} AND start_ns < {b}"
        self.wdb = (f"timestamp >= fromUnixTimestamp64Nano(toInt64({a})) AND "
                    f"timestamp < fromUnixTimestamp64Nano(toInt64({b}))")

    def spec(self, **kw):
        s = {"start_time": self.start, "end_time": self.end}
        s.update(kw)
        return s


class Check:
    """Collects agreement notes for one question."""

    def __init__(self):
        self.notes = []
        self.ok = True

    def fail(self, msg):
        self.ok = False
        self.notes.append(msg)

    def note(self, msg):
        self.notes.append(msg)


def cmp_exact_dict(check, who, ref, got, what="count"):
    for k in sorted(set(ref) | set(got), key=str):
        if ref.get(k) != got.get(k):
            check.fail(f"{who}: {what} for {k!r}: {got.get(k)} vs reference {ref.get(k)}")
            if len(check.notes) > 12:
                check.fail("... (more differences)")
                return


def describe(ans):
    """A short size summary of a normalized answer, so an empty agreement is visible."""
    if isinstance(ans, dict) and "minutes" in ans:
        total = sum(sum(v) for v in ans["minutes"].values())
        return f"{len(ans['minutes'])} minutes, {total:,} rows, range [{ans['lo']}, {ans['hi']}] ms"
    if isinstance(ans, dict) and "groups" in ans:
        return f"{len(ans['groups'])} groups, {sum(ans['groups'].values()):,} distinct values summed"
    if isinstance(ans, dict):
        vals = list(ans.values())
        if vals and all(isinstance(v, int) for v in vals):
            return f"{len(ans)} groups, {sum(vals):,} rows"
        return f"{len(ans)} groups"
    if isinstance(ans, list):
        return f"{len(ans)} rows, first {ans[0] if ans else None}"
    return repr(ans)


def rel(a, b):
    if a == b:
        return 0.0
    return abs(a - b) / max(abs(a), abs(b), 1e-300)


class Question:
    def __init__(self, key, title):
        self.key, self.title = key, title


# Q1 COUNT by service.
class CountByService(Question):
    def __init__(self):
        super().__init__("count_by_service", "COUNT by service")

    def waggle(self, w, c):
        return lambda: w.run_query("__all__", c.spec(calculations=[{"op": "COUNT"}],
                                                     breakdowns=["service.name"]), True)

    def norm_waggle(self, raw):
        return {r["data"]["service.name"]: int(r["data"]["COUNT"]) for r in waggle_data(raw)["results"]}

    def sql18(self, c):
        return f"SELECT service, count() FROM spans WHERE {c.w18} GROUP BY service"

    def sqldb(self, c):
        return f"SELECT service, count() FROM spans WHERE {c.wdb} GROUP BY service"

    def norm_ch(self, rows):
        return {r[0]: int(r[1]) for r in rows}

    def compare(self, check, who, ref, got):
        cmp_exact_dict(check, who, ref, got)


# Q2 P50/P95/P99 of duration by name for one service.
class PercentilesByName(Question):
    SERVICE = "inventory-service"
    PS = (0.5, 0.95, 0.99)
    PER_MILLE = (500, 950, 990)

    def __init__(self):
        super().__init__("percentiles_by_name", f"P50/P95/P99(duration) by name, {self.SERVICE}")

    def waggle(self, w, c):
        calcs = [{"op": op, "column": "duration_ms"} for op in ("P50", "P95", "P99")]
        return lambda: w.run_query(self.SERVICE, c.spec(calculations=calcs, breakdowns=["name"]), True)

    def norm_waggle(self, raw):
        out = {}
        for r in waggle_data(raw)["results"]:
            d = r["data"]
            out[d["name"]] = [float(d[f"{op}(duration_ms)"]) for op in ("P50", "P95", "P99")]
        return out

    def sql18(self, c):
        return (f"SELECT name, quantilesExact(0.5, 0.95, 0.99)(duration_ns) FROM spans "
                f"WHERE service = '{self.SERVICE}' AND {c.w18} GROUP BY name")

    def sqldb(self, c):
        return (f"SELECT name, quantilesExact(0.5, 0.95, 0.99)(duration_ns) FROM spans "
                f"WHERE service = '{self.SERVICE}' AND {c.wdb} GROUP BY name")

    def norm_ch(self, rows):
        return {r[0]: [int(x) / 1e6 for x in r[1]] for r in rows}

    def compare(self, check, who, ref, got):
        if set(ref) != set(got):
            check.fail(f"{who}: names differ: {sorted(set(ref) ^ set(got))}")
        worst = 0.0
        for name in set(ref) & set(got):
            for i, p in enumerate(("P50", "P95", "P99")):
                e = rel(ref[name][i], got[name][i])
                worst = max(worst, e)
                if e > PERCENTILE_TOLERANCE:
                    # Not a failure by itself: quantileExact takes rank floor(q*n)+1, waggle the
                    # nearest rank ceil(q*n); run() checks waggle against exact nearest-rank values.
                    check.note(f"{who}: {p}({name}) = {got[name][i]:.6f} ms vs quantileExact "
                               f"{ref[name][i]:.6f} ms (rel. diff {e:.2%} > {PERCENTILE_TOLERANCE:.0%})")
        check.note(f"{who}: largest relative difference from quantileExact {worst:.4%}")

    def exact_reference(self, db, c):
        """Nearest-rank percentiles (the definition waggle states), computed by chdb."""
        cols = ", ".join(f"arrayElement(s, toUInt64(intDiv({pm} * n + 999, 1000)))" for pm in self.PER_MILLE)
        rows = db.rows(f"SELECT name, {cols} FROM (SELECT name, arraySort(groupArray(duration_ns)) AS s, "
                       f"count() AS n FROM spans WHERE service = '{self.SERVICE}' AND {c.wdb} GROUP BY name)")
        return {r[0]: [int(x) / 1e6 for x in r[1:]] for r in rows}


# Q3 HEATMAP of duration by minute.
class HeatmapByMinute(Question):
    def __init__(self):
        super().__init__("heatmap_by_minute", "HEATMAP(duration) per minute")

    def waggle(self, w, c):
        return lambda: w.run_query("__all__", c.spec(calculations=[{"op": "HEATMAP", "column": "duration_ms"}],
                                                     granularity=60), False)

    def norm_waggle(self, raw):
        data = waggle_data(raw)
        out, lo, hi = {}, None, None
        for p in data.get("series") or []:
            h = p["data"].get("HEATMAP(duration_ms)")
            if not h:
                continue
            lo, hi = h["lo"], h["hi"]
            if any(h["counts"]):
                out[rfc3339_seconds(p["time"])] = [int(x) for x in h["counts"]]
        return {"lo": lo, "hi": hi, "minutes": out}

    def _sql(self, where, minute):
        return (f"WITH (SELECT (min(duration_ns / 1e6), max(duration_ns / 1e6)) FROM spans WHERE {where}) AS mm "
                f"SELECT {minute} AS t, least({HEATMAP_BUCKETS - 1}, toUInt32(floor((duration_ns / 1e6 - mm.1) / "
                f"(mm.2 - mm.1) * {HEATMAP_BUCKETS}))) AS b, count(), any(mm.1), any(mm.2) FROM spans "
                f"WHERE {where} GROUP BY t, b")

    def sql18(self, c):
        return self._sql(c.w18, "intDiv(start_ns, 60000000000) * 60")

    def sqldb(self, c):
        return self._sql(c.wdb, "toUnixTimestamp(toStartOfMinute(timestamp))")

    def norm_ch(self, rows):
        out, lo, hi = {}, None, None
        for t, b, n, lo_, hi_ in rows:
            lo, hi = float(lo_), float(hi_)
            out.setdefault(int(t), [0] * HEATMAP_BUCKETS)[int(b)] += int(n)
        return {"lo": lo, "hi": hi, "minutes": out}

    def compare(self, check, who, ref, got):
        if ref["lo"] != got["lo"] or ref["hi"] != got["hi"]:
            check.fail(f"{who}: range [{got['lo']}, {got['hi']}] vs reference [{ref['lo']}, {ref['hi']}]")
        rm, gm = ref["minutes"], got["minutes"]
        if set(rm) != set(gm):
            check.fail(f"{who}: {len(gm)} minutes vs reference {len(rm)}")
        diffs = [t for t in set(rm) & set(gm) if rm[t] != gm[t]]
        if diffs:
            t = min(diffs)
            bad = [(i, gm[t][i], rm[t][i]) for i in range(HEATMAP_BUCKETS) if gm[t][i] != rm[t][i]]
            check.fail(f"{who}: bucket counts differ in {len(diffs)} minutes, e.g. minute {t}: "
                       f"(bucket, got, ref) {bad[:4]}")


# Q4 COUNT_DISTINCT of user id by route.
class DistinctUsersByRoute(Question):
    def __init__(self):
        super().__init__("count_distinct_users_by_route", "COUNT_DISTINCT(user.id) by http.route")

    def waggle(self, w, c):
        return lambda: w.run_query("__all__", c.spec(
            calculations=[{"op": "COUNT_DISTINCT", "column": "user.id"}],
            filters=[{"column": "http.route", "op": "exists"}],
            breakdowns=["http.route"]), True)

    def norm_waggle(self, raw):
        data = waggle_data(raw)
        out = {r["data"]["http.route"]: int(r["data"]["COUNT_DISTINCT(user.id)"]) for r in data["results"]}
        return {"approx": bool(data.get("count_distinct_approximate")),
                "bound": data.get("count_distinct_relative_error"), "groups": out}

    def sql18(self, c):
        return (f"SELECT attr_values[indexOf(attr_keys, 'http.route')] AS route, "
                f"uniqExact(attr_values[indexOf(attr_keys, 'user.id')]) FROM spans "
                f"WHERE {c.w18} AND has(attr_keys, 'http.route') GROUP BY route")

    def sqldb(self, c):
        return (f"SELECT attributes_string['http.route'] AS route, uniqExact(attributes_string['user.id']) "
                f"FROM spans WHERE {c.wdb} AND mapContains(attributes_string, 'http.route') GROUP BY route")

    def norm_ch(self, rows):
        return {"approx": False, "bound": None, "groups": {r[0]: int(r[1]) for r in rows}}

    def compare(self, check, who, ref, got):
        rg, gg = ref["groups"], got["groups"]
        if not got["approx"]:
            cmp_exact_dict(check, who, rg, gg, "distinct users")
            return
        bound = 3 * float(got["bound"] or HLL_RELATIVE_ERROR)
        check.note(f"{who}: HyperLogLog for some groups (stated relative error "
                   f"{float(got['bound'] or HLL_RELATIVE_ERROR):.2%}; checked within 3x = {bound:.2%})")
        if set(rg) != set(gg):
            check.fail(f"{who}: routes differ: {sorted(set(rg) ^ set(gg))}")
        worst = 0.0
        for k in set(rg) & set(gg):
            e = rel(rg[k], gg[k])
            worst = max(worst, e)
            if e > bound:
                check.fail(f"{who}: {k}: {gg[k]} vs exact {rg[k]} (rel. error {e:.2%})")
        check.note(f"{who}: largest relative error {worst:.3%}")


# Q5 AVG duration by user id, top 10.
class AvgByUserTop10(Question):
    def __init__(self):
        super().__init__("avg_by_user_top10", "AVG(duration) by user.id, top 10")

    def waggle(self, w, c):
        return lambda: w.run_query("__all__", c.spec(
            calculations=[{"op": "AVG", "column": "duration_ms"}], breakdowns=["user.id"],
            orders=[{"op": "AVG", "column": "duration_ms", "order": "descending"}], limit=10), True)

    def norm_waggle(self, raw):
        return [(r["data"]["user.id"], float(r["data"]["AVG(duration_ms)"])) for r in waggle_data(raw)["results"]]

    def sql18(self, c):
        return (f"SELECT attr_values[indexOf(attr_keys, 'user.id')] AS u, avg(duration_ns / 1e6) AS a "
                f"FROM spans WHERE {c.w18} GROUP BY u ORDER BY a DESC LIMIT 10")

    def sqldb(self, c):
        return (f"SELECT attributes_string['user.id'] AS u, avg(duration_ns / 1e6) AS a "
                f"FROM spans WHERE {c.wdb} GROUP BY u ORDER BY a DESC LIMIT 10")

    def norm_ch(self, rows):
        return [(r[0], float(r[1])) for r in rows]

    def compare(self, check, who, ref, got):
        if len(ref) != len(got):
            check.fail(f"{who}: {len(got)} rows vs reference {len(ref)}")
        for i, (a, b) in enumerate(zip(ref, got)):
            if a[0] != b[0] or rel(a[1], b[1]) > 1e-9:
                check.fail(f"{who}: row {i}: {b} vs reference {a}")


# Q6 errors (http.status_code >= 500) by service per 5 minutes.
class ErrorsByService5m(Question):
    def __init__(self):
        super().__init__("errors_by_service_5m", "COUNT(status>=500) by service per 5 min")

    def waggle(self, w, c):
        return lambda: w.run_query("__all__", c.spec(
            calculations=[{"op": "COUNT"}],
            filters=[{"column": "http.status_code", "op": ">=", "value": 500}],
            breakdowns=["service.name"], granularity=300), False)

    def norm_waggle(self, raw):
        out = {}
        for p in waggle_data(raw).get("series") or []:
            n = int(p["data"].get("COUNT") or 0)
            if n:
                out[(rfc3339_seconds(p["time"]), p["data"]["service.name"])] = n
        return out

    def sql18(self, c):
        return (f"SELECT intDiv(start_ns, 300000000000) * 300 AS t, service, count() FROM spans "
                f"WHERE {c.w18} AND num_values[indexOf(num_keys, 'http.status_code')] >= 500 "
                f"GROUP BY t, service")

    def sqldb(self, c):
        return (f"SELECT toUnixTimestamp(toStartOfInterval(timestamp, INTERVAL 5 MINUTE)) AS t, service, count() "
                f"FROM spans WHERE {c.wdb} AND attributes_number['http.status_code'] >= 500 GROUP BY t, service")

    def norm_ch(self, rows):
        return {(int(r[0]), r[1]): int(r[2]) for r in rows}

    def compare(self, check, who, ref, got):
        cmp_exact_dict(check, who, ref, got)


# Q7 COUNT where a string attribute contains a word.
class CountContains(Question):
    WORD = "deadlock"

    def __init__(self):
        super().__init__("count_contains_word", f"COUNT where db.statement contains '{self.WORD}'")

    def waggle(self, w, c):
        return lambda: w.run_query("__all__", c.spec(
            calculations=[{"op": "COUNT"}],
            filters=[{"column": "db.statement", "op": "contains", "value": self.WORD}]), True)

    def norm_waggle(self, raw):
        res = waggle_data(raw)["results"]
        return int(res[0]["data"].get("COUNT", 0)) if res else 0

    def sql18(self, c):
        return (f"SELECT count() FROM spans WHERE {c.w18} AND "
                f"attr_values[indexOf(attr_keys, 'db.statement')] LIKE '%{self.WORD}%'")

    def sqldb(self, c):
        return f"SELECT count() FROM spans WHERE {c.wdb} AND attributes_string['db.statement'] LIKE '%{self.WORD}%'"

    def norm_ch(self, rows):
        return int(rows[0][0])

    def compare(self, check, who, ref, got):
        if ref != got:
            check.fail(f"{who}: {got} vs reference {ref}")


def cmp_top(check, who, ref, got, with_counts):
    """Top lists of (trace_id, duration_ms[, span_count]): durations in order; ids modulo ties."""
    if len(ref) != len(got):
        check.fail(f"{who}: {len(got)} rows vs reference {len(ref)}")
    for i, (a, b) in enumerate(zip(ref, got)):
        if rel(a[1], b[1]) > 1e-9:
            check.fail(f"{who}: row {i}: duration {b[1]} ms vs reference {a[1]} ms")
    rd = {r[0]: r for r in ref}
    for r in got:
        if r[0] not in rd:
            if not any(rel(x[1], r[1]) <= 1e-9 for x in ref):
                check.fail(f"{who}: trace {r[0]} not in the reference top list")
        elif with_counts and rd[r[0]][2] != r[2]:
            check.fail(f"{who}: trace {r[0]}: {r[2]} spans vs reference {rd[r[0]][2]}")


# Q8 the 20 slowest root spans, with each trace's span count/services/error (trace search).
class SlowestRoots(Question):
    def __init__(self):
        super().__init__("slowest_roots_search", "20 slowest root spans (trace search)")

    def waggle(self, w, c):
        body = {"dataset": "__all__", "order": "slowest", "limit": 20, "roots_only": True,
                "start_time": c.start, "end_time": c.end}
        return lambda: w.search(body)

    def norm_waggle(self, raw):
        return [(t["trace_id"], float(t["duration_ms"]), int(t["span_count"])) for t in json.loads(raw)["traces"]]

    def _sql(self, where):
        return ("SELECT trace_id, maxIf(duration_ns, parent_span_id = '') AS root_ns, count(), "
                "groupUniqArray(service), max(status_code = 2), anyIf(name, parent_span_id = '') FROM spans "
                f"WHERE trace_id IN (SELECT trace_id FROM spans WHERE {where} AND parent_span_id = '' "
                "ORDER BY duration_ns DESC LIMIT 20) GROUP BY trace_id ORDER BY root_ns DESC, trace_id")

    def sql18(self, c):
        return self._sql(c.w18)

    def sqldb(self, c):
        return self._sql(c.wdb)

    def norm_ch(self, rows):
        return [(r[0], int(r[1]) / 1e6, int(r[2])) for r in rows]

    def compare(self, check, who, ref, got):
        cmp_top(check, who, ref, got, True)


# Q8b the same through the Query Data API: MAX(duration_ms) by trace.trace_id over roots.
class SlowestRootsQuery(Question):
    def __init__(self):
        super().__init__("slowest_roots_query", "20 slowest roots (Query API, by trace id)")

    def waggle(self, w, c):
        return lambda: w.run_query("__all__", c.spec(
            calculations=[{"op": "MAX", "column": "duration_ms"}],
            filters=[{"column": "trace.parent_id", "op": "does-not-exist"}],
            breakdowns=["trace.trace_id"],
            orders=[{"op": "MAX", "column": "duration_ms", "order": "descending"}], limit=20), True)

    def norm_waggle(self, raw):
        return [(r["data"]["trace.trace_id"], float(r["data"]["MAX(duration_ms)"])) for r in waggle_data(raw)["results"]]

    def sql18(self, c):
        return (f"SELECT trace_id, max(duration_ns) AS m FROM spans WHERE {c.w18} AND parent_span_id = '' "
                f"GROUP BY trace_id ORDER BY m DESC LIMIT 20")

    def sqldb(self, c):
        return (f"SELECT trace_id, max(duration_ns) AS m FROM spans WHERE {c.wdb} AND parent_span_id = '' "
                f"GROUP BY trace_id ORDER BY m DESC LIMIT 20")

    def norm_ch(self, rows):
        return [(r[0], int(r[1]) / 1e6) for r in rows]

    def compare(self, check, who, ref, got):
        cmp_top(check, who, ref, got, False)


# Q9 BubbleUp: slow spans (duration >= 500 ms) vs every other span, per value of a few string
# columns. ClickHouse does the same work as countIf inside/outside the region grouped by value,
# one GROUP BY per column (a missing attribute reads as '' there, as the "missing" bucket here).
class BubbleUpSlow(Question):
    LO_MS, HI_MS = 500, 10**9
    COLUMNS = (("service.name", "service", "service"),
               ("name", "name", "name"),
               ("http.route", "attr_values[indexOf(attr_keys, 'http.route')]",
                "attributes_string['http.route']"))

    def __init__(self):
        super().__init__("bubbleup_slow", "BubbleUp: duration >= 500 ms vs the rest, 3 columns")

    def waggle(self, w, c):
        body = {"dataset": "__all__", "query": c.spec(),
                "selection": {"duration_ms": [self.LO_MS, self.HI_MS]},
                "columns": [col for col, _, _ in self.COLUMNS], "limit": 1000}
        return lambda: w.bubbleup(body)

    @staticmethod
    def engine_ms(raw):
        return float(json.loads(raw)["stats"]["elapsed_ms"])

    def norm_waggle(self, raw):
        out = {}
        for col in json.loads(raw)["columns"]:
            for b in col["buckets"]:
                if "value" in b or "missing" in b:
                    out[(col["column"], b.get("value"))] = (b["selection"]["count"], b["baseline"]["count"])
        return out

    def _sql(self, where, exprs):
        inside = f"duration_ns >= {self.LO_MS * 10**6} AND duration_ns <= {self.HI_MS * 10**6}"
        parts = [f"SELECT '{col}' AS c, toString({expr}) AS v, countIf({inside}) AS sel, "
                 f"countIf(NOT ({inside})) AS base FROM spans WHERE {where} GROUP BY v"
                 for (col, _, _), expr in zip(self.COLUMNS, exprs)]
        return " UNION ALL ".join(parts)

    def sql18(self, c):
        # 18.16 finds no UNION supertype for LowCardinality(String) and String: plain strings.
        return self._sql(c.w18, [f"CAST({e18} AS String)" for _, e18, _ in self.COLUMNS])

    def sqldb(self, c):
        return self._sql(c.wdb, [edb for _, _, edb in self.COLUMNS])

    def norm_ch(self, rows):
        return {(r[0], r[1] if r[1] != "" else None): (int(r[2]), int(r[3])) for r in rows}

    def compare(self, check, who, ref, got):
        cmp_exact_dict(check, who, ref, got, what="(selection, baseline) counts")


QUESTIONS = [CountByService(), PercentilesByName(), HeatmapByMinute(), DistinctUsersByRoute(),
             AvgByUserTop10(), ErrorsByService5m(), CountContains(), SlowestRoots(), SlowestRootsQuery(),
             BubbleUpSlow()]

TRACE_COLUMNS_18 = ("trace_id, span_id, parent_span_id, start_ns, duration_ns, service, name, kind, "
                    "status_code, status_message, attr_keys, attr_values, num_keys, num_values, res_keys, res_values")


# ---------------------------------------------------------------------------------------------
# Timing.

def timed(fn, runs, engine_ms=None):
    """1 warm-up + `runs` timed calls; returns (median ms, all ms, last result, median of the
    engine-reported ms or None)."""
    out = fn()
    times, engine = [], []
    for _ in range(runs):
        t0 = time.perf_counter()
        out = fn()
        times.append((time.perf_counter() - t0) * 1000)
        if engine_ms is not None:
            try:
                engine.append(engine_ms(out))
            except (ValueError, KeyError, TypeError):
                pass
    return statistics.median(times), times, out, (statistics.median(engine) if engine else None)


def waggle_engine_ms(raw):
    """waggle's data.stats.elapsed_ms (the store's query time, without HTTP/JSON)."""
    return float(json.loads(raw)["data"]["stats"]["elapsed_ms"])


def ch_engine_ms(raw):
    """ClickHouse's JSON statistics.elapsed (server-side query time)."""
    return float(json.loads(raw)["statistics"]["elapsed"]) * 1000


def percentile(values, q):
    s = sorted(values)
    return s[max(0, math.ceil(q * len(s)) - 1)]


def dir_bytes(path):
    total = 0
    for root, _, files in os.walk(path):
        for f in files:
            try:
                total += os.lstat(os.path.join(root, f)).st_size
            except OSError:
                pass
    return total


def machine_info():
    cpu = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = "?"
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal"):
                    mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                    break
    except OSError:
        pass
    load = "?"
    try:
        load = subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": cpu, "ram": mem, "kernel": platform.release(),
            "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "uptime": load}


def fmt_ms(v):
    if v is None:
        return "error"
    return f"{v:.1f}" if v >= 10 else f"{v:.2f}"


def run(args):
    c = Ctx(args.end_epoch)
    w = Waggle(args.waggle)
    ch = Ch18(args.ch_http)
    db = Chdb(args.chdb_path)
    only = set(args.only.split(",")) if args.only else None
    rows = []        # (title, waggle ms, chdb ms, ch18 ms, agreement text)
    engine_rows = []  # (title, engine-reported ms per system)
    notes = []       # agreement details
    errors = []
    for q in QUESTIONS:
        if only and q.key not in only:
            continue
        log(f"query: {q.title}")
        res = {}
        engine = {}
        for sysname, fn, norm, eng in (
                ("waggle", q.waggle(w, c), q.norm_waggle,
                 None if isinstance(q, SlowestRoots) else getattr(q, "engine_ms", waggle_engine_ms)),
                ("chdb", (lambda sql=q.sqldb(c): db.query(sql)), lambda raw: q.norm_ch(json.loads(raw)["data"]),
                 ch_engine_ms),
                ("clickhouse-18.16", (lambda sql=q.sql18(c): ch.query(sql)),
                 lambda raw: q.norm_ch(json.loads(raw)["data"]), ch_engine_ms)):
            try:
                med, all_ms, raw, engine[sysname] = timed(fn, args.runs, eng)
                res[sysname] = (med, norm(raw))
                e = engine[sysname]
                log(f"  {sysname:18s} median {med:9.2f} ms  runs {', '.join(f'{x:.1f}' for x in all_ms)}"
                    + (f"  (engine-reported {e:.1f} ms)" if e is not None else ""))
            except Exception as e:  # one system failing must not stop the others
                engine[sysname] = None
                res[sysname] = (None, None)
                errors.append(f"{q.title}: {sysname}: {type(e).__name__}: {str(e)[:400]}")
                log(f"  {sysname}: ERROR {type(e).__name__}: {str(e)[:400]}")
        check = Check()
        ref = res["chdb"][1]
        if ref is None:
            check.fail("no reference answer (chdb failed)")
        else:
            check.note(f"reference answer: {describe(ref)}")
            for who in ("waggle", "clickhouse-18.16"):
                if res[who][1] is not None:
                    q.compare(check, who, ref, res[who][1])
            if isinstance(q, PercentilesByName) and res["waggle"][1] is not None:
                exact = q.exact_reference(db, c)
                sub = Check()
                for name in set(exact) | set(res["waggle"][1]):
                    e, g = exact.get(name), res["waggle"][1].get(name)
                    if e != g:
                        sub.fail(f"waggle: {name}: {g} vs exact nearest-rank {e}")
                if sub.ok:
                    check.note("waggle equals the exact nearest-rank percentiles (computed by chdb)")
                else:
                    check.notes += sub.notes
                    check.ok = False
        if res["waggle"][1] is None:
            check.ok = False
        rows.append((q.title, res["waggle"][0], res["chdb"][0], res["clickhouse-18.16"][0],
                     "yes" if check.ok else "NO"))
        engine_rows.append((q.title, engine.get("waggle"), engine.get("chdb"), engine.get("clickhouse-18.16")))
        notes.append((q.title, check))
        for n in check.notes:
            log(f"    {n}")

    # Trace by id.
    if not only or "trace_by_id" in only:
        with open(args.trace_ids) as f:
            ids = [l.strip() for l in f if l.strip()]
        log(f"query: trace by id ({len(ids)} ids)")
        lookups = {
            "waggle": lambda t: w.trace(t),
            "chdb": lambda t: db.query(f"SELECT * FROM spans WHERE trace_id = '{t}' ORDER BY timestamp"),
            "clickhouse-18.16": lambda t: ch.query(
                f"SELECT {TRACE_COLUMNS_18} FROM spans WHERE trace_id = '{t}' ORDER BY start_ns"),
        }
        counts = {}
        stats = {}
        for sysname, fn in lookups.items():
            try:
                for t in ids:  # warm-up pass
                    fn(t)
                single = []
                got = {}
                for _ in range(args.runs):
                    for t in ids:
                        t0 = time.perf_counter()
                        raw = fn(t)
                        single.append((time.perf_counter() - t0) * 1000)
                        got[t] = raw
                if sysname == "waggle":
                    counts[sysname] = {t: int(json.loads(r)["span_count"]) for t, r in got.items()}
                else:
                    counts[sysname] = {t: len(json.loads(r)["data"]) for t, r in got.items()}
                stats[sysname] = (percentile(single, 0.5), percentile(single, 0.99))
                log(f"  {sysname:18s} p50 {stats[sysname][0]:.2f} ms  p99 {stats[sysname][1]:.2f} ms")
            except Exception as e:  # one system failing must not stop the others
                stats[sysname] = (None, None)
                errors.append(f"trace by id: {sysname}: {type(e).__name__}: {str(e)[:400]}")
                log(f"  {sysname}: ERROR {e}")
        check = Check()
        ref = counts.get("chdb")
        for who in ("waggle", "clickhouse-18.16"):
            if ref is not None and who in counts:
                cmp_exact_dict(check, who, ref, counts[who], "span count")
        if ref is not None:
            check.note(f"reference: {len(ref)} traces, {sum(ref.values()):,} spans")
        if ref is not None and any(n == 0 for n in ref.values()):
            check.fail("chdb: some sampled trace ids have no spans")
        if "waggle" not in counts:
            check.ok = False
        for i, label in enumerate(("p50", "p99")):
            rows.append((f"trace by id, {label} of {len(ids)}x{args.runs} lookups",
                         stats.get("waggle", (None, None))[i], stats.get("chdb", (None, None))[i],
                         stats.get("clickhouse-18.16", (None, None))[i], "yes" if check.ok else "NO"))
        notes.append(("trace by id (span counts)", check))

    # Bytes on disk.
    wag_all = dir_bytes(args.waggle_data)
    wag_seg = dir_bytes(os.path.join(args.waggle_data, "segments"))
    ch_bytes = int(ch.rows("SELECT sum(bytes_on_disk) FROM system.parts WHERE table = 'spans' AND active")[0][0])
    db_bytes = int(db.rows("SELECT sum(bytes_on_disk) FROM system.parts WHERE table = 'spans' AND active")[0][0])
    sizes = [("waggle (whole data dir)", wag_all), ("waggle (segments/)", wag_seg),
             ("chdb (system.parts)", db_bytes), ("clickhouse-18.16 (system.parts)", ch_bytes)]

    report = render(args, rows, engine_rows, notes, sizes, errors, db.version())
    print(report)
    if args.write_results:
        with open(args.write_results, "w") as f:
            f.write(report)
        log(f"wrote {args.write_results}")
    return 0


def render(args, rows, engine_rows, notes, sizes, errors, chdb_version):
    m = machine_info()
    wv = "?"
    if args.waggle_bin:
        try:
            wv = subprocess.run([args.waggle_bin, "version"], capture_output=True, text=True).stdout.strip().splitlines()[0]
        except (OSError, IndexError):
            pass
    out = []
    out.append("# Query benchmark: waggle vs ClickHouse (chdb 26.x, clickhouse-server 18.16)\n")
    out.append("Generated by `bench/run_query.sh` (issue 3). Each query: 1 warm-up + "
               f"{args.runs} timed runs, median wall time in ms as seen by the client "
               "(waggle and clickhouse-18.16 over loopback HTTP with keep-alive; chdb in-process, no HTTP). "
               "Lower is better; the ratio is waggle / the faster ClickHouse peer (target <= 1.0).\n")
    out.append("## Machine\n")
    out.append(f"- date: {m['date']}")
    out.append(f"- CPU: {m['cpu']}, nproc {m['nproc']}; RAM {m['ram']}; kernel {m['kernel']}")
    out.append(f"- load at the end of the run: `{m['uptime']}`")
    out.append(f"- waggle: {wv}; chdb engine {chdb_version}; clickhouse-server 18.16 (Debian)")
    out.append(f"- dataset: {args.spans:,} spans (bench/query_dataset, seed {args.seed}), 2 hours ending at "
               f"{datetime.datetime.fromtimestamp(args.end_epoch, datetime.timezone.utc):%Y-%m-%d %H:%M} UTC\n")
    out.append("## Results\n")
    out.append("| query | waggle ms | chdb ms | clickhouse-18.16 ms | waggle / faster peer | answers agree |")
    out.append("|---|---:|---:|---:|---:|:---:|")
    for title, wm, dm, cm, agree in rows:
        peers = [x for x in (dm, cm) if x is not None]
        ratio = f"{wm / min(peers):.2f}x" if wm is not None and peers else "n/a"
        out.append(f"| {title} | {fmt_ms(wm)} | {fmt_ms(dm)} | {fmt_ms(cm)} | {ratio} | {agree} |")
    out.append("")
    out.append("Engine-reported time (median of the timed runs; waggle: `data.stats.elapsed_ms` of the "
               "query result, ClickHouse: `statistics.elapsed` of its JSON output), i.e. without HTTP, "
               "JSON and client overhead; for diagnosis, not the measurement:\n")
    out.append("| query | waggle engine ms | chdb engine ms | clickhouse-18.16 engine ms |")
    out.append("|---|---:|---:|---:|")
    for title, wm, dm, cm in engine_rows:
        f = lambda v: "n/a" if v is None else fmt_ms(v)
        out.append(f"| {title} | {f(wm)} | {f(dm)} | {f(cm)} |")
    out.append("")
    out.append("## Bytes on disk\n")
    out.append("| system | bytes | bytes per span |")
    out.append("|---|---:|---:|")
    for name, b in sizes:
        out.append(f"| {name} | {b:,} | {b / args.spans:.2f} |")
    out.append("")
    out.append("## Answer agreement (reference: chdb)\n")
    for title, check in notes:
        status = "agree" if check.ok else "DISAGREE"
        out.append(f"- **{title}**: {status}")
        for n in check.notes:
            out.append(f"  - {n}")
    if errors:
        out.append("\n## Errors\n")
        for e in errors:
            out.append(f"- {e}")
    out.append("\n## Setup\n")
    out.append("- waggle: `waggle serve` on the data directory written by query_dataset (Store::Append in "
               "batches of ~5000 rows, then Flush/Close); queries through POST /1/queries + POST "
               "/1/query_results (`disable_series` unless the question is a time series), trace search "
               "through POST /api/v1/traces/search, traces through GET /api/v1/traces/{id}.")
    out.append("- chdb: MergeTree ORDER BY (service, name, timestamp), PARTITION BY toDate(timestamp), "
               "Map(LowCardinality(String), String|Float64) attributes, Delta/T64/ZSTD codecs, bloom_filter "
               "index on trace_id, minmax on duration; OPTIMIZE FINAL after the load.")
    out.append("- clickhouse-18.16: MergeTree ORDER BY (service, name, start_ns), attributes as parallel "
               "Array(String) key/value columns (18.16 has no Map, no codecs, no skip indexes); OPTIMIZE FINAL.")
    out.append("- Percentiles: waggle states exact nearest-rank; ClickHouse quantileExact may pick the "
               "neighbouring rank, so they are compared within 1% and waggle is also checked against exact "
               "nearest-rank values computed by chdb. COUNT_DISTINCT: exact vs uniqExact, or within 3x the "
               "stated HyperLogLog error when waggle says it is approximate.")
    return "\n".join(out) + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    l18 = sub.add_parser("load-ch18")
    l18.add_argument("--ch-http", required=True)
    l18.add_argument("--tsv", required=True)
    l18.add_argument("--key", required=True)
    l18.add_argument("--marker", required=True)
    l18.add_argument("--spans", type=int, required=True)
    ldb = sub.add_parser("load-chdb")
    ldb.add_argument("--chdb-path", required=True)
    ldb.add_argument("--tsv", required=True)
    ldb.add_argument("--key", required=True)
    ldb.add_argument("--marker", required=True)
    ldb.add_argument("--spans", type=int, required=True)
    r = sub.add_parser("run")
    r.add_argument("--waggle", required=True)
    r.add_argument("--waggle-bin")
    r.add_argument("--waggle-data", required=True)
    r.add_argument("--ch-http", required=True)
    r.add_argument("--chdb-path", required=True)
    r.add_argument("--end-epoch", type=int, required=True)
    r.add_argument("--spans", type=int, required=True)
    r.add_argument("--seed", type=int, default=1)
    r.add_argument("--trace-ids", required=True)
    r.add_argument("--runs", type=int, default=5)
    r.add_argument("--only", help="comma-separated question keys (and/or trace_by_id)")
    r.add_argument("--write-results")
    args = p.parse_args()
    if args.cmd == "load-ch18":
        return load_ch18(args)
    if args.cmd == "load-chdb":
        return load_chdb(args)
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
