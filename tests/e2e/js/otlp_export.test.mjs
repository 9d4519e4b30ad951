// The OpenTelemetry JS SDK (NodeTracerProvider + BatchSpanProcessor) exporting to waggle with
// @opentelemetry/exporter-trace-otlp-proto and @opentelemetry/exporter-trace-otlp-http (JSON),
// the way the seed's React front end would, with Honeycomb's x-honeycomb-team header. The JS
// exporters stream request bodies chunked, without Content-Length.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { context, trace, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { OTLPTraceExporter as ProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { OTLPTraceExporter as JsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { Waggle, flatten } from './waggle.mjs';

// Wraps an exporter to record every export result (BatchSpanProcessor only logs failures).
function recording(exporter) {
  const results = [];
  return {
    results,
    export(spans, done) { exporter.export(spans, (r) => { results.push(r); done(r); }); },
    shutdown() { return exporter.shutdown(); },
    forceFlush() { return exporter.forceFlush ? exporter.forceFlush() : Promise.resolve(); },
  };
}

// Emits frontend-react-js: HomeFeedPage → GET /api/activities/home (with an event) and a
// failing child; returns the ids and the export results.
async function emitTrace(Exporter, url, key, options = {}) {
  const exporter = recording(new Exporter({ url, headers: { 'x-honeycomb-team': key }, ...options }));
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'frontend-react-js', 'deployment.environment': 'e2e' }),
    spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: 100 })],
  });
  const tracer = provider.getTracer('waggle-e2e-js', '1.0.0');
  const parent = tracer.startSpan('HomeFeedPage', {
    kind: SpanKind.INTERNAL, attributes: { 'app.user_id': 'user-7', 'app.page': 'home' },
  });
  const ctx = trace.setSpan(context.active(), parent);
  const child = tracer.startSpan('GET /api/activities/home', {
    kind: SpanKind.CLIENT,
    attributes: {
      'http.method': 'GET', 'http.url': 'http://localhost:4567/api/activities/home',
      'http.status_code': 200, 'app.ratio': 0.5, 'app.cached': false, 'app.tags': ['a', 'b'],
    },
  }, ctx);
  child.addEvent('response.received', { 'app.result_length': 3 });
  child.setStatus({ code: SpanStatusCode.OK });
  child.end();
  const failing = tracer.startSpan('render-feed', { kind: SpanKind.INTERNAL }, ctx);
  failing.recordException(new Error('render failed'));
  failing.setStatus({ code: SpanStatusCode.ERROR, message: 'render failed' });
  failing.end();
  parent.end();
  // With a failing export, forceFlush rejects; the recorded results tell what happened.
  let flushError = null;
  try {
    await provider.forceFlush();
  } catch (e) {
    flushError = e;
  }
  await provider.shutdown().catch(() => {});
  return {
    traceId: parent.spanContext().traceId,
    parentId: parent.spanContext().spanId,
    childId: child.spanContext().spanId,
    failingId: failing.spanContext().spanId,
    results: exporter.results,
    flushError,
  };
}

function checkTrace(doc, ids) {
  assert.equal(doc.trace_id, ids.traceId);
  assert.equal(doc.spans.length, 1, 'one root');
  const [root] = doc.spans;
  assert.equal(root.span_id, ids.parentId);
  assert.equal(root.name, 'HomeFeedPage');
  assert.equal(root['service.name'], 'frontend-react-js');
  assert.equal(root.attributes['app.user_id'], 'user-7');
  assert.equal(root.attributes['deployment.environment'], 'e2e');
  assert.deepEqual(root.children.map((c) => c.span_id).sort(), [ids.childId, ids.failingId].sort());
  const all = Object.fromEntries(flatten(doc).map((s) => [s.span_id, s]));
  const child = all[ids.childId];
  assert.equal(child.parent_id, ids.parentId);
  assert.equal(child.name, 'GET /api/activities/home');
  assert.match(String(child['span.kind']).toLowerCase(), /^(client|3)$/);
  assert.equal(child.attributes['http.status_code'], 200);
  assert.equal(child.attributes['app.ratio'], 0.5);
  assert.equal(child.attributes['app.cached'], false);
  assert.deepEqual(JSON.parse(child.attributes['app.tags']), ['a', 'b']);
  assert.equal(child.error, false);
  assert.equal(child.events.length, 1);
  const ev = child.events[0];
  assert.equal(ev.name, 'response.received');
  assert.equal((ev.attributes || ev)['app.result_length'], 3);
  const failing = all[ids.failingId];
  assert.equal(failing.error, true);
  assert.match(String(failing.status_code).toLowerCase(), /^(error|2)$/);
  assert.ok(failing.events.some((e) => e.name === 'exception'), JSON.stringify(failing.events));
  assert.ok(root.duration_ms >= child.duration_ms);
}

for (const [label, Exporter, options] of [
  ['exporter-trace-otlp-proto (protobuf)', ProtoExporter, {}],
  ['exporter-trace-otlp-http (JSON)', JsonExporter, {}],
  ['exporter-trace-otlp-proto with gzip', ProtoExporter, { compression: 'gzip' }],
]) {
  test(`${label} → waggle → trace API`, async () => {
    const w = await new Waggle().start();
    try {
      for (const url of [`${w.otlpHttp}/v1/traces`, `${w.http}/v1/traces`]) {
        const ids = await emitTrace(Exporter, url, 'any-local-key', options);
        assert.equal(ids.flushError, null, String(ids.flushError));
        assert.ok(ids.results.length >= 1);
        for (const r of ids.results) assert.equal(r.code, ExportResultCode.SUCCESS, String(r.error));
        checkTrace(await w.waitTrace(ids.traceId, 3), ids);
      }
    } finally {
      assert.equal(await w.stop(), 0, 'graceful exit code');
    }
  });
}

test('wrong x-honeycomb-team key is refused (401) and nothing is stored', async () => {
  const w = await new Waggle({ apiKeys: ['js0good0key0000000001'] }).start();
  try {
    for (const Exporter of [ProtoExporter, JsonExporter]) {
      const bad = await emitTrace(Exporter, `${w.otlpHttp}/v1/traces`, 'js0wrong0key');
      assert.ok(bad.flushError, 'forceFlush reports the failed export');
      assert.ok(bad.results.length >= 1);
      for (const r of bad.results) {
        assert.equal(r.code, ExportResultCode.FAILED);
        assert.match(String(r.error?.code ?? r.error), /401/);
      }
      const good = await emitTrace(Exporter, `${w.otlpHttp}/v1/traces`, 'js0good0key0000000001');
      for (const r of good.results) assert.equal(r.code, ExportResultCode.SUCCESS, String(r.error));
      checkTrace(await w.waitTrace(good.traceId, 3), good);
      assert.equal((await w.getTrace(bad.traceId)).status, 404);
    }
  } finally {
    await w.stop();
  }
});
