// The seed's Honeycomb queries through waggle's Query Data API after ingesting with the real
// OpenTelemetry JS SDK: "group by trace.trace_id", a heatmap of duration, "Latency by UserID"
// saved and re-run, and "Recent Traces" through trace search.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { context, trace, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { Waggle } from './waggle.mjs';

const TRACES = 30;
const USERS = ['andrewbrown', 'bayko', 'londo', 'worf', 'garek'];
let waggle;
const roots = [];  // { traceId, durationMs, user, startMs }

function rootDuration(i) { return 10 + i * 7; }
function childDuration(i) { return 1 + i; }

async function ingest() {
  const exporter = new OTLPTraceExporter({
    url: `${waggle.otlpHttp}/v1/traces`, headers: { 'x-honeycomb-team': waggle.key() },
  });
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'backend-flask' }),
    spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: 50 })],
  });
  const tracer = provider.getTracer('app.home_activities');
  const base = Date.now() - 10 * 60 * 1000;
  for (let i = 0; i < TRACES; i++) {
    const startMs = base + i * 1000;
    const user = USERS[i % USERS.length];
    const root = tracer.startSpan('GET /api/activities/home', {
      kind: SpanKind.SERVER, startTime: startMs,
      attributes: { 'http.route': '/api/activities/home', 'http.method': 'GET', 'app.user_id': user,
        'http.status_code': i % 10 === 9 ? 500 : 200 },
    });
    const ctx = trace.setSpan(context.active(), root);
    const child = tracer.startSpan('home-activities-mock-data', {
      startTime: startMs + 1, attributes: { 'app.now': new Date(startMs).toISOString(), 'app.result_length': 3 },
    }, ctx);
    child.end(startMs + 1 + childDuration(i));
    if (i % 10 === 9) root.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
    root.end(startMs + rootDuration(i));
    roots.push({ traceId: root.spanContext().traceId, durationMs: rootDuration(i), user, startMs });
  }
  await provider.forceFlush();
  await provider.shutdown();
  await waggle.waitTrace(roots[TRACES - 1].traceId, 2);
}

async function api(method, path, body) {
  const r = await fetch(`${waggle.http}${path}`, {
    method, headers: { 'x-honeycomb-team': waggle.key(), 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* keep text */ }
  return { status: r.status, json, text };
}

// Creates the query, runs it and returns the result document (Honeycomb's two-step flow).
async function runQuery(dataset, spec) {
  const created = await api('POST', `/1/queries/${dataset}`, spec);
  assert.equal(created.status, 200, created.text);
  assert.ok(created.json.id, 'query id');
  const result = await api('POST', `/1/query_results/${dataset}`, { query_id: created.json.id });
  assert.equal(result.status, 201, result.text);
  assert.equal(result.json.complete, true);
  const again = await api('GET', `/1/query_results/${dataset}/${result.json.id}`);
  assert.equal(again.status, 200);
  assert.deepEqual(again.json.data.results, result.json.data.results);
  return { queryId: created.json.id, result: result.json };
}

function nearestRank(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(q * sorted.length) - 1)];
}

before(async () => {
  waggle = await new Waggle({ apiKeys: ['seed-queries-key'] }).start();
  await ingest();
});

after(async () => { await waggle.stop(); });

test('group by trace.trace_id: one group per trace with its span count', async () => {
  const { result } = await runQuery('backend-flask', {
    calculations: [{ op: 'COUNT' }], breakdowns: ['trace.trace_id'], time_range: 3600, limit: 1000,
  });
  const groups = result.data.results.map((r) => r.data);
  assert.equal(groups.length, TRACES);
  for (const g of groups) assert.equal(g.COUNT, 2, JSON.stringify(g));
  assert.deepEqual(new Set(groups.map((g) => g['trace.trace_id'])), new Set(roots.map((r) => r.traceId)));
  assert.ok(result.data.series.length > 0, 'a time series');
});

test('heatmap of duration covers every span', async () => {
  const { result } = await runQuery('backend-flask', {
    calculations: [{ op: 'HEATMAP', column: 'duration_ms' }, { op: 'MAX', column: 'duration_ms' }],
    time_range: 3600,
  });
  const [row] = result.data.results;
  const heatmap = row.data['HEATMAP(duration_ms)'];
  assert.equal(heatmap.counts.reduce((a, b) => a + b, 0), 2 * TRACES);
  assert.equal(heatmap.lo, childDuration(0));
  assert.equal(heatmap.hi, rootDuration(TRACES - 1));
  assert.equal(row.data['MAX(duration_ms)'], rootDuration(TRACES - 1));
});

test('Latency by UserID: saved, listed and re-run', async () => {
  const spec = {
    calculations: [{ op: 'P90', column: 'duration_ms' }, { op: 'COUNT' }],
    filters: [{ column: 'name', op: '=', value: 'GET /api/activities/home' }],
    breakdowns: ['app.user_id'],
    orders: [{ op: 'P90', column: 'duration_ms', order: 'descending' }],
    time_range: 7200,
  };
  const { queryId, result } = await runQuery('backend-flask', spec);
  const rows = result.data.results.map((r) => r.data);
  assert.equal(rows.length, USERS.length);
  for (const user of USERS) {
    const want = nearestRank(roots.filter((r) => r.user === user).map((r) => r.durationMs), 0.9);
    const got = rows.find((r) => r['app.user_id'] === user);
    assert.equal(got['P90(duration_ms)'], want, user);
    assert.equal(got.COUNT, TRACES / USERS.length);
  }
  const p90s = rows.map((r) => r['P90(duration_ms)']);
  assert.deepEqual(p90s, [...p90s].sort((a, b) => b - a), 'ordered by P90 descending');

  const saved = await api('POST', '/1/query_annotations/backend-flask',
    { name: 'Latency by UserID', description: 'seed week 2', query_id: queryId });
  assert.equal(saved.status, 201, saved.text);
  const list = await api('GET', '/1/query_annotations/backend-flask');
  assert.equal(list.status, 200);
  const found = list.json.find((a) => a.name === 'Latency by UserID');
  assert.equal(found.query_id, queryId);
  const rerun = await api('POST', '/1/query_results/backend-flask', { query_id: found.query_id });
  assert.equal(rerun.status, 201);
  assert.deepEqual(rerun.json.data.results, result.data.results);
  const recent = await api('GET', '/1/recent_queries/backend-flask');
  assert.equal(recent.json[0].query_id, queryId);
});

test('Recent Traces and the slowest traces through trace search', async () => {
  const recent = await api('POST', '/api/v1/traces/search',
    { dataset: 'backend-flask', order: 'recent', limit: 10, time_range: 3600 });
  assert.equal(recent.status, 200, recent.text);
  const newest = [...roots].sort((a, b) => b.startMs - a.startMs).slice(0, 10).map((r) => r.traceId);
  assert.deepEqual(recent.json.traces.map((t) => t.trace_id), newest);
  for (const t of recent.json.traces) {
    assert.equal(t.span_count, 2);
    assert.deepEqual(t.services, ['backend-flask']);
  }
  const slow = await api('POST', '/api/v1/traces/search',
    { order: 'slowest', limit: 3, filters: [{ column: 'http.status_code', op: '>=', value: 500 }] });
  assert.equal(slow.status, 200, slow.text);
  const errors = roots.filter((_, i) => i % 10 === 9).sort((a, b) => b.durationMs - a.durationMs);
  assert.deepEqual(slow.json.traces.map((t) => t.trace_id), errors.map((r) => r.traceId));
  assert.equal(slow.json.traces[0].error, true);
});

test('bad specs get Honeycomb errors that name the field', async () => {
  const bad = await api('POST', '/1/queries/backend-flask', { calculations: [{ op: 'P98', column: 'duration_ms' }] });
  assert.equal(bad.status, 400);
  assert.match(bad.json.error, /calculations\[0\]/);
  const missing = await api('POST', '/1/query_results/backend-flask', { query_id: 'nope' });
  assert.equal(missing.status, 404);
  assert.match(missing.json.error, /nope/);
});
