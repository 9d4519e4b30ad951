#!/usr/bin/env python3
"""Reference implementation of waggle's query semantics: the golden tests' oracle.

It reads golden case files (tests/golden/README.md describes the format), evaluates every
query over the case's rows with plain Python, and prints, checks or writes the expected
results. It shares no code with waggle and is meant to be read as the spec in executable
form; every rule below cites the header it comes from:

  src/query/query_spec.h                 window, grouping, havings, orders, limit, series
  src/query/aggregate.h                  the calculations and their exactness
  src/query/internal/filter_eval.h       filter matching (mixed types, nulls)
  src/query/executor.cc                  default order, null placement, breakdown order
  src/store/internal/query_source.cc     which columns a span has

Usage:
  oracle.py CASE.json...            print the computed expectations
  oracle.py --check CASE.json...    exit 1 if a file's "expect" differs from the oracle
  oracle.py --write CASE.json...    rewrite the files' "expect" fields (rows/specs untouched)

Queries with "expect_error" are not evaluated; the oracle only confirms that its own
validation rejects them too (a spec the oracle accepts is reported as a case error).
"""

import argparse
import json
import math
import sys
from fractions import Fraction
from functools import cmp_to_key

BASE_EPOCH = 1767225600          # 2026-01-01T00:00:00Z, a multiple of 3600 (and of 86400)
NS = 1_000_000_000
HEATMAP_BUCKETS = 50             # aggregate.h kHeatmapBuckets
DEFAULT_LIMIT = 1000             # query_spec.h kDefaultLimit
MAX_LIMIT = 10000                # query_spec.h kMaxLimit
EXACT_DISTINCT_LIMIT = 65536     # query_spec.h kCountDistinctExactLimit

PERCENTILES = {  # op -> q in thousandths
    "P001": 1, "P01": 10, "P05": 50, "P10": 100, "P20": 200, "P25": 250, "P50": 500,
    "P75": 750, "P80": 800, "P90": 900, "P95": 950, "P99": 990, "P999": 999,
}
RATES = {"RATE_AVG": "AVG", "RATE_SUM": "SUM", "RATE_MAX": "MAX"}
CALC_OPS = {"COUNT", "CONCURRENCY", "SUM", "AVG", "COUNT_DISTINCT", "MAX", "MIN", "HEATMAP",
            *PERCENTILES, *RATES}
NO_COLUMN_OPS = {"COUNT", "CONCURRENCY"}
FILTER_OPS = {"=", "!=", ">", ">=", "<", "<=", "starts-with", "does-not-start-with",
              "ends-with", "does-not-end-with", "contains", "does-not-contain", "exists",
              "does-not-exist", "in", "not-in"}
NEGATIONS = {"!=": "=", "not-in": "in", "does-not-start-with": "starts-with",
             "does-not-end-with": "ends-with", "does-not-contain": "contains",
             "does-not-exist": "exists"}
HAVING_OPS = {"=", "!=", ">", ">=", "<", "<="}
SPAN_KINDS = {"unspecified", "internal", "server", "client", "producer", "consumer"}


class SpecError(Exception):
    """The spec is invalid (waggle must answer InvalidArgument)."""


class CaseError(Exception):
    """The case file itself is malformed."""


# ----------------------------------------------------------------------------------------------
# Typed values: ("null", None), ("bool", b), ("int", i), ("float", f), ("str", s).

NULL = ("null", None)


def typed_from_json(v):
    """A JSON attribute value as a typed value. {"f": x} forces a float."""
    if isinstance(v, bool):
        return ("bool", v)
    if isinstance(v, int):
        return ("int", v)
    if isinstance(v, float):
        return ("float", v)
    if isinstance(v, str):
        return ("str", v)
    if isinstance(v, dict) and set(v) == {"f"} and isinstance(v["f"], (int, float)) \
            and not isinstance(v["f"], bool):
        return ("float", float(v["f"]))
    raise CaseError(f"unsupported attribute value {v!r}")


def typed_to_json(t):
    kind, v = t
    if kind == "float":
        return float(v)
    return v


def is_number(t):
    return t[0] in ("int", "float")


# ----------------------------------------------------------------------------------------------
# Rows: the compact case form -> start/end ns and the columns a span has (query_source.cc).

def hex_ok(s, digits):
    return isinstance(s, str) and len(s) == digits and all(c in "0123456789abcdef" for c in s)


def row_times(r):
    start_ns = BASE_EPOCH * NS + round(r["start_s"] * 1e9)
    end_ns = start_ns + round(r.get("duration_ms", 0) * 1e6)
    if r.get("row_kind") == "span_event":
        end_ns = start_ns
    return start_ns, end_ns


def build_row(r):
    for key in r:
        if key not in ("trace", "span", "parent", "service", "name", "start_s", "duration_ms",
                       "kind", "status", "status_message", "library", "row_kind", "attrs"):
            raise CaseError(f"unknown row field {key!r}")
    if not hex_ok(r.get("trace"), 32) or not hex_ok(r.get("span"), 16):
        raise CaseError(f"row needs lowercase hex trace (32) and span (16): {r}")
    if "parent" in r and not hex_ok(r["parent"], 16):
        raise CaseError(f"bad parent in {r}")
    start_ns, end_ns = row_times(r)
    cols = {}
    cols["trace.trace_id"] = ("str", r["trace"])
    cols["trace.span_id"] = ("str", r["span"])
    parent = r.get("parent")
    if parent is not None and parent != "0" * 16:  # all-zero parent = root = null
        cols["trace.parent_id"] = ("str", parent)
    cols["name"] = ("str", r.get("name", ""))                 # always present, even empty
    cols["service.name"] = ("str", r["service"])
    kind = r.get("kind", "unspecified")
    if kind not in SPAN_KINDS:
        raise CaseError(f"bad kind {kind!r}")
    cols["span.kind"] = ("str", kind)                          # always a string
    d = end_ns - start_ns
    cols["duration_ms"] = ("float", d / 1e6 if d > 0 else 0.0)  # always a double
    status = r.get("status")
    code = {None: 0, "ok": 1, "error": 2}.get(status)
    if code is None and status is not None:
        raise CaseError(f"bad status {status!r}")
    cols["status_code"] = ("int", code)                        # always an int
    if code == 2:
        cols["error"] = ("bool", True)                         # true or null
    if r.get("status_message"):
        cols["status_message"] = ("str", r["status_message"])  # null when empty
    if r.get("library"):
        cols["library.name"] = ("str", r["library"])
    if r.get("row_kind") is not None:
        if r["row_kind"] != "span_event":
            raise CaseError("row_kind may only be span_event")
        cols["meta.annotation_type"] = ("str", "span_event")
    for key, value in r.get("attrs", {}).items():
        if key in cols or key in ("meta.annotation_type", "status_message", "library.name",
                                  "error", "trace.parent_id"):
            raise CaseError(f"attribute {key!r} collides with a fixed column")
        cols[key] = typed_from_json(value)
    return {"start_ns": start_ns, "end_ns": end_ns, "cols": cols}


def col(row, name):
    return row["cols"].get(name, NULL)


# ----------------------------------------------------------------------------------------------
# Spec parsing and validation (query_spec.h: ValidateSpec, ResolveWindow).

def parse_spec(s):
    if not isinstance(s, dict):
        raise SpecError("spec: expected an object")
    calcs = []
    for i, c in enumerate(s.get("calculations", [])):
        op = c.get("op")
        if op not in CALC_OPS:
            raise SpecError(f"calculations[{i}]: unknown op {op!r}")
        column = c.get("column") or ""
        if op in NO_COLUMN_OPS and column:
            raise SpecError(f"calculations[{i}]: {op} takes no column")
        if op not in NO_COLUMN_OPS and not column:
            raise SpecError(f"calculations[{i}]: {op} requires a column")
        calcs.append((op, column))
    if not calcs:
        calcs = [("COUNT", "")]
    filters = []
    for i, f in enumerate(s.get("filters", [])):
        op = f.get("op")
        if op not in FILTER_OPS:
            raise SpecError(f"filters[{i}]: unknown op {op!r}")
        if not f.get("column"):
            raise SpecError(f"filters[{i}]: column required")
        if op in ("exists", "does-not-exist"):
            values = []
        elif op in ("in", "not-in"):
            if not isinstance(f.get("value"), list) or not f["value"]:
                raise SpecError(f"filters[{i}]: {op} takes a non-empty array")
            values = list(f["value"])
        else:
            if "value" not in f or isinstance(f["value"], (list, dict)) or f["value"] is None:
                raise SpecError(f"filters[{i}]: {op} takes one value")
            values = [f["value"]]
        filters.append((f["column"], op, [operand_of(v) for v in values]))
    combination = s.get("filter_combination", "AND")
    if combination not in ("AND", "OR"):
        raise SpecError("filter_combination: AND or OR")
    breakdowns = list(s.get("breakdowns", []))
    if any(not b for b in breakdowns):
        raise SpecError("breakdowns: empty column")
    orders = []
    for i, o in enumerate(s.get("orders", [])):
        direction = o.get("order", "ascending")
        if direction not in ("ascending", "descending"):
            raise SpecError(f"orders[{i}]: order must be ascending or descending")
        if "op" in o:
            key = (o["op"], o.get("column") or "")
            if key not in calcs:
                raise SpecError(f"orders[{i}]: not a calculation of the query")
            orders.append(("calc", calcs.index(key), direction == "descending"))
        else:
            if o.get("column") not in breakdowns:
                raise SpecError(f"orders[{i}]: {o.get('column')!r} is not a breakdown")
            orders.append(("breakdown", breakdowns.index(o["column"]), direction == "descending"))
    havings = []
    for i, h in enumerate(s.get("havings", [])):
        key = (h.get("calculate_op"), h.get("column") or "")
        if key[0] == "HEATMAP":
            raise SpecError(f"havings[{i}]: HEATMAP cannot be compared")
        if key not in calcs:
            raise SpecError(f"havings[{i}]: not a calculation of the query")
        if h.get("op") not in HAVING_OPS:
            raise SpecError(f"havings[{i}]: bad op")
        havings.append((calcs.index(key), h["op"], float(h["value"])))
    limit = s.get("limit", DEFAULT_LIMIT)
    if not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise SpecError("limit: must be in [1, 10000]")
    window = resolve_window(s)
    return {"calcs": calcs, "filters": filters, "or": combination == "OR",
            "breakdowns": breakdowns, "orders": orders, "havings": havings, "limit": limit,
            "window": window}


def resolve_window(s):
    """(start_ns, end_ns, granularity_ns, buckets). The cases always give two of the three
    time fields and the granularity, so nothing depends on the clock."""
    start, end, rng = s.get("start_time"), s.get("end_time"), s.get("time_range")
    given = sum(x is not None for x in (start, end, rng))
    if given == 3:
        raise SpecError("time_range: at most two of time_range, start_time, end_time")
    if given != 2:
        raise CaseError("golden specs give exactly two of start_time/end_time/time_range")
    if start is None:
        start = end - rng
    elif end is None:
        end = start + rng
    rng = end - start
    if rng <= 0:
        raise SpecError("time_range: the window is empty (end_time must follow start_time)")
    g = s.get("granularity")
    if g is None:
        raise CaseError("golden specs give an explicit granularity")
    if g < 1 or g > rng or g * 1000 < rng:
        raise SpecError("granularity: must lie in [range/1000, range] and be at least 1 s")
    start_ns = (start // g) * g * NS   # aligned down to the granularity
    end_ns = end * NS                  # exclusive
    g_ns = g * NS
    buckets = -(-(end_ns - start_ns) // g_ns)
    return start_ns, end_ns, g_ns, buckets


# ----------------------------------------------------------------------------------------------
# Filters (filter_eval.h).

def operand_of(v):
    """What one filter operand can be compared as."""
    if isinstance(v, bool):
        return {"text": "true" if v else "false", "is_string": False, "number": None,
                "bool": v}
    if isinstance(v, int):
        return {"text": str(v), "is_string": False, "number": Fraction(v), "bool": None}
    if isinstance(v, float):
        text = str(int(v)) if v.is_integer() and abs(v) < 1e16 else repr(v)
        return {"text": text, "is_string": False, "number": Fraction(v), "bool": None}
    if isinstance(v, str):
        number = None
        try:
            number = Fraction(int(v))
        except ValueError:
            try:
                f = float(v)
                if math.isfinite(f):
                    number = Fraction(f)
            except ValueError:
                pass
        b = {"true": True, "false": False}.get(v)
        return {"text": v, "is_string": True, "number": number, "bool": b}
    raise SpecError(f"filter value {v!r} must be a string, number or boolean")


def equals(t, o):
    """`=`: numbers numerically, strings byte for byte against the operand's text, bools
    against true/false/"true"/"false"; null never."""
    kind, v = t
    if kind == "str":
        return v == o["text"]
    if kind in ("int", "float"):
        return o["number"] is not None and Fraction(v) == o["number"]
    if kind == "bool":
        return o["bool"] is not None and v == o["bool"]
    return False


def compares(t, o, op):
    """`> >= < <=`: numbers numerically, string rows lexicographically against a string
    operand; anything else does not match."""
    kind, v = t
    if kind == "str":
        if not o["is_string"]:
            return False
        a, b = v.encode(), o["text"].encode()
    elif kind in ("int", "float"):
        if o["number"] is None:
            return False
        a, b = Fraction(v), o["number"]
    else:
        return False
    return {">": a > b, ">=": a >= b, "<": a < b, "<=": a <= b}[op]


def positive_match(t, op, operands):
    if op == "exists":
        return t[0] != "null"
    if op == "=":
        return equals(t, operands[0])
    if op == "in":
        return any(equals(t, o) for o in operands)
    if op in (">", ">=", "<", "<="):
        return compares(t, operands[0], op)
    # String ops apply to string rows only.
    if t[0] != "str":
        return False
    text = operands[0]["text"]
    if op == "starts-with":
        return t[1].startswith(text)
    if op == "ends-with":
        return t[1].endswith(text)
    if op == "contains":
        return text in t[1]
    raise AssertionError(op)


def matches(row, f):
    column, op, operands = f
    t = col(row, column)
    if op in NEGATIONS:  # exactly the rows the positive op does not match, nulls included
        return not positive_match(t, NEGATIONS[op], operands)
    return positive_match(t, op, operands)


def select_rows(rows, dataset, spec):
    start_ns, end_ns, _, _ = spec["window"]
    out = []
    for r in rows:
        if not start_ns <= r["start_ns"] < end_ns:
            continue
        if dataset != "__all__" and col(r, "service.name") != ("str", dataset):
            continue
        if spec["filters"]:
            results = [matches(r, f) for f in spec["filters"]]
            if not (any(results) if spec["or"] else all(results)):
                continue
        out.append(r)
    return out


# ----------------------------------------------------------------------------------------------
# Calculations (aggregate.h). Each takes the rows of one group (all buckets, or one bucket)
# and returns a number, None (null) or a heatmap dict.

def numbers(rows, column):
    """Int and float values of the column (ints as doubles); other types are not input."""
    return [float(col(r, column)[1]) for r in rows if is_number(col(r, column))]


def percentile(values, per_mille):
    """Nearest rank: the smallest value v with at least ceil(q*n) values <= v."""
    if not values:
        return None
    s = sorted(values)
    need = math.ceil(Fraction(per_mille, 1000) * len(s))
    for v in s:
        if sum(1 for x in s if x <= v) >= need:
            return v
    raise AssertionError("unreachable")


def statistic(stat, values):
    if not values:
        return None
    if stat == "SUM":
        return math.fsum(values)
    if stat == "AVG":
        return math.fsum(values) / len(values)
    if stat == "MIN":
        return min(values)
    if stat == "MAX":
        return max(values)
    raise AssertionError(stat)


def count_distinct(rows, column):
    """Distinct typed values: the string "1", the int 1, the float 1.0 and true differ;
    -0.0 equals 0.0. Null when the column has no value in the rows."""
    seen = set()
    for r in rows:
        t = col(r, column)
        if t[0] == "null":
            continue
        if t[0] == "float" and t[1] == 0:
            t = ("float", 0.0)
        seen.add(t)
    if len(seen) > EXACT_DISTINCT_LIMIT:
        raise CaseError("the golden cases stay in the exact COUNT_DISTINCT range")
    return len(seen) if seen else None


def open_at(row, t):
    """A span [start, end) is open at each instant of it; a zero-length one at its start."""
    s, e = row["start_ns"], row["end_ns"]
    return s <= t < e if e > s else t == s


def concurrency_in_bucket(group_rows, bucket_start, bucket_end):
    """The most of the group's spans (from any bucket) open at one instant of the bucket.
    The open count only rises at a span start, so the bucket start and the starts inside it
    are the only instants to look at."""
    instants = [bucket_start] + [r["start_ns"] for r in group_rows
                                 if bucket_start <= r["start_ns"] < bucket_end]
    return max(sum(1 for r in group_rows if open_at(r, t)) for t in instants)


def heatmap(values, lo, hi):
    """HEATMAP_BUCKETS equal-width buckets over [lo, hi] (the query-wide range), the last
    one including hi; everything in bucket 0 when hi == lo. Exact arithmetic."""
    if not values:
        return None
    counts = [0] * HEATMAP_BUCKETS
    for v in values:
        if hi > lo:
            i = math.floor((Fraction(v) - Fraction(lo)) * HEATMAP_BUCKETS /
                           (Fraction(hi) - Fraction(lo)))
            i = min(max(i, 0), HEATMAP_BUCKETS - 1)
        else:
            i = 0
        counts[i] += 1
    return {"lo": lo, "hi": hi, "counts": counts}


def bucket_of(spec, row):
    start_ns, _, g_ns, _ = spec["window"]
    return (row["start_ns"] - start_ns) // g_ns


def evaluate_group(spec, calc, group_rows, heat_range):
    """(summary, [per bucket value]) of one calculation for one group."""
    op, column = calc
    start_ns, _, g_ns, nb = spec["window"]
    by_bucket = [[] for _ in range(nb)]
    for r in group_rows:
        by_bucket[bucket_of(spec, r)].append(r)

    if op == "CONCURRENCY":
        per = [concurrency_in_bucket(group_rows, start_ns + b * g_ns, start_ns + (b + 1) * g_ns)
               for b in range(nb)]
        return max(per), per
    if op in RATES:
        xs = [statistic(RATES[op], numbers(rs, column)) for rs in by_bucket]
        per = [None] + [xs[b] - xs[b - 1] if xs[b] is not None and xs[b - 1] is not None
                        else None for b in range(1, nb)]
        diffs = [d for d in per if d is not None]
        return (math.fsum(diffs) / len(diffs) if diffs else None), per

    def one(rs):
        if op == "COUNT":
            return len(rs)
        if op == "COUNT_DISTINCT":
            return count_distinct(rs, column)
        if op in PERCENTILES:
            return percentile(numbers(rs, column), PERCENTILES[op])
        if op == "HEATMAP":
            return heatmap(numbers(rs, column), *heat_range)
        return statistic(op, numbers(rs, column))

    return one(group_rows), [one(rs) for rs in by_bucket]


# ----------------------------------------------------------------------------------------------
# Groups, havings, orders, limit, series (query_spec.h, executor.cc).

TYPE_RANK = {"null": 0, "bool": 1, "int": 2, "float": 2, "str": 3}


def compare_values(a, b):
    """Breakdown value order: null < bool < numbers < strings; numbers numerically, strings
    by bytes, false < true."""
    ra, rb = TYPE_RANK[a[0]], TYPE_RANK[b[0]]
    if ra != rb:
        return -1 if ra < rb else 1
    if a[0] == "null":
        return 0
    if a[0] == "str":
        x, y = a[1].encode(), b[1].encode()
    else:
        x, y = Fraction(a[1]), Fraction(b[1])
    return (x > y) - (x < y)


def compare_calc(a, b, descending):
    """Calculation order; nulls (and heatmaps, which are not numbers) last either way."""
    an, bn = not isinstance(a, (int, float)), not isinstance(b, (int, float))
    if an or bn:
        return 0 if an == bn else (1 if an else -1)
    c = (a > b) - (a < b)
    return -c if descending else c


def passes_having(value, cmp, target):
    if not isinstance(value, (int, float)):  # a null calculation fails every having
        return False
    return {"=": value == target, "!=": value != target, ">": value > target,
            ">=": value >= target, "<": value < target, "<=": value <= target}[cmp]


def run_query(rows, dataset, spec_json):
    spec = parse_spec(spec_json)
    selected = select_rows(rows, dataset, spec)
    calcs = spec["calcs"]

    # HEATMAP range: min/max of every value any HEATMAP calculation of the query takes.
    heat_values = [v for op, column in calcs if op == "HEATMAP"
                   for v in numbers(selected, column)]
    heat_range = (min(heat_values), max(heat_values)) if heat_values else (0.0, 0.0)

    groups = {}
    for r in selected:
        key = tuple(col(r, b) for b in spec["breakdowns"])
        if key and any(k[0] == "float" and k[1] == 0 for k in key):
            raise CaseError("avoid 0.0 in float breakdowns (-0.0 and 0.0 group apart)")
        groups.setdefault(key, []).append(r)

    evaluated = []
    for key, group_rows in groups.items():
        per_calc = [evaluate_group(spec, c, group_rows, heat_range) for c in calcs]
        summary = [s for s, _ in per_calc]
        if all(passes_having(summary[i], cmp, v) for i, cmp, v in spec["havings"]):
            evaluated.append({"key": key, "summary": summary,
                              "buckets": [p for _, p in per_calc]})

    order_keys = list(spec["orders"])
    if not order_keys:
        order_keys = [("calc", 0, True)]  # first calculation, descending

    def cmp(a, b):
        for kind, i, descending in order_keys:
            if kind == "calc":
                c = compare_calc(a["summary"][i], b["summary"][i], descending)
            else:
                c = compare_values(a["key"][i], b["key"][i])
                c = -c if descending else c
            if c:
                return c
        for x, y in zip(a["key"], b["key"]):  # then group values ascending
            c = compare_values(x, y)
            if c:
                return c
        return 0

    evaluated.sort(key=cmp_to_key(cmp))
    kept = evaluated[:spec["limit"]]

    labels = [op if not column else f"{op}({column})" for op, column in calcs]

    def values(vals):
        return {label: out_number(v) for label, v in zip(labels, vals)}

    results = [{"group": [typed_to_json(t) for t in g["key"]], "values": values(g["summary"])}
               for g in kept]
    start_ns, _, g_ns, nb = spec["window"]
    series = []
    for b in range(nb):
        for g in kept:
            series.append({"time": (start_ns + b * g_ns) // NS,
                           "group": [typed_to_json(t) for t in g["key"]],
                           "values": values([p[b] for p in g["buckets"]])})
    return results, series


def out_number(v):
    if isinstance(v, float) and v.is_integer() and abs(v) < 2**53:
        return int(v)
    return v


# ----------------------------------------------------------------------------------------------
# Case files.

def load_case(path):
    with open(path, encoding="utf-8") as f:
        case = json.load(f)
    for key in case:
        if key not in ("description", "rows", "queries"):
            raise CaseError(f"{path}: unknown top-level field {key!r}")
    rows = [build_row(r) for r in case["rows"]]
    names = [q["name"] for q in case["queries"]]
    if len(set(names)) != len(names):
        raise CaseError(f"{path}: duplicate query names")
    return case, rows


def expected_for(case, rows, q):
    """The expectation the oracle computes for query q, or None for expect_error queries."""
    if "expect_error" in q:
        try:
            run_query(rows, q["dataset"], q["spec"])
        except SpecError:
            return None
        raise CaseError(f"query {q['name']!r}: expect_error, but the oracle accepts the spec")
    results, series = run_query(rows, q["dataset"], q["spec"])
    expect = {"results": results}
    if q.get("series", False):
        expect["series"] = series
    return expect


def dumps_line(v):
    return json.dumps(v, ensure_ascii=False, separators=(", ", ": "))


def format_case(case):
    """Stable layout: one line per row, per spec, per result row and per series point."""
    out = ["{"]
    out.append(f'  "description": {dumps_line(case["description"])},')
    out.append('  "rows": [')
    out.append(",\n".join("    " + dumps_line(r) for r in case["rows"]))
    out.append("  ],")
    out.append('  "queries": [')
    qs = []
    for q in case["queries"]:
        lines = ["    {"]
        fields = []
        for key in q:
            if key == "expect":
                continue
            fields.append(f'      {json.dumps(key)}: {dumps_line(q[key])}')
        if "expect" in q:
            e = q["expect"]
            parts = ['      "expect": {']
            sub = []
            for key in ("results", "series"):
                if key not in e:
                    continue
                if e[key]:
                    sub.append(f'        "{key}": [\n' + ",\n".join(
                        "          " + dumps_line(x) for x in e[key]) + "\n        ]")
                else:
                    sub.append(f'        "{key}": []')
            parts.append(",\n".join(sub))
            parts.append("      }")
            fields.append("\n".join(parts))
        lines.append(",\n".join(fields))
        lines.append("    }")
        qs.append("\n".join(lines))
    out.append(",\n".join(qs))
    out.append("  ]")
    out.append("}")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="rewrite the expect fields")
    mode.add_argument("--check", action="store_true", help="fail if an expect field differs")
    ap.add_argument("cases", nargs="+")
    args = ap.parse_args()
    status = 0
    total_queries = 0
    for path in args.cases:
        case, rows = load_case(path)
        changed = []
        for q in case["queries"]:
            total_queries += 1
            if "expect" in q and "expect_error" in q:
                raise CaseError(f"{path}: {q['name']}: both expect and expect_error")
            expect = expected_for(case, rows, q)
            if expect is None:
                continue
            if q.get("expect") != expect:
                changed.append(q["name"])
            if args.write:
                q["expect"] = expect
            elif not args.check:
                print(f"== {path} :: {q['name']}")
                print(json.dumps(expect, indent=1))
        if args.write:
            with open(path, "w", encoding="utf-8") as f:
                f.write(format_case(case))
            print(f"{path}: {len(case['queries'])} queries, {len(changed)} expectations updated")
        elif args.check and changed:
            print(f"{path}: expectations differ from the oracle: {', '.join(changed)}")
            status = 1
    if args.check and status == 0:
        print(f"ok: {len(args.cases)} files, {total_queries} queries match the oracle")
    return status


if __name__ == "__main__":
    sys.exit(main())
