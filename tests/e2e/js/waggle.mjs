// Runs a real `waggle serve` on free loopback ports for the JS end-to-end tests and reads
// traces back through its API. Binary: env WAGGLE_BIN (default build/src/server/waggle).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const SCALE = Number(process.env.WAGGLE_E2E_TIMEOUT_SCALE || '1');

export function waggleBin() {
  return resolve(process.env.WAGGLE_BIN || join(ROOT, 'build', 'src', 'server', 'waggle'));
}

export class Waggle {
  constructor({ apiKeys = [] } = {}) {
    this.apiKeys = apiKeys;
    this.dir = mkdtempSync(join(tmpdir(), 'waggle-e2e-js-'));
  }

  async start(timeoutMs = 30000) {
    const bin = waggleBin();
    if (!existsSync(bin)) throw new Error(`waggle binary not found at ${bin}; set WAGGLE_BIN`);
    const ready = join(this.dir, 'ready.json');
    const args = ['serve', '--data-dir', join(this.dir, 'data'),
      '--http-listen', '127.0.0.1:0', '--otlp-http-listen', '127.0.0.1:0',
      '--otlp-grpc-listen', '127.0.0.1:0', '--xray-listen', '127.0.0.1:0',
      '--ready-file', ready];
    for (const k of this.apiKeys) args.push('--api-key', k);
    this.logPath = join(this.dir, 'waggle.log');
    const log = openSync(this.logPath, 'w');
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('WAGGLE_')));
    this.proc = spawn(bin, args, { stdio: ['ignore', log, log], env });
    closeSync(log);
    this.exit = new Promise((res) => this.proc.on('exit', (code, sig) => res({ code, sig })));
    const deadline = Date.now() + timeoutMs * SCALE;
    for (;;) {
      if (this.proc.exitCode !== null) throw new Error(`waggle exited early:\n${this.logTail()}`);
      if (existsSync(ready)) {
        try {
          this.addrs = JSON.parse(readFileSync(ready, 'utf8'));
          break;
        } catch { /* not complete yet */ }
      }
      if (Date.now() > deadline) {
        await this.stop();
        throw new Error(`waggle not ready in time:\n${this.logTail()}`);
      }
      await sleep(20);
    }
    return this;
  }

  get http() { return `http://${this.addrs.http}`; }
  get otlpHttp() { return `http://${this.addrs.otlp_http}`; }
  key() { return this.apiKeys[0] || 'local-key'; }

  logTail(n = 40) {
    try { return readFileSync(this.logPath, 'utf8').split('\n').slice(-n).join('\n'); } catch { return ''; }
  }

  // SIGTERM, then SIGKILL after a timeout. Resolves to the exit code (null if killed).
  async stop(timeoutMs = 20000) {
    if (!this.proc) return null;
    let result = null;
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      this.proc.kill('SIGTERM');
      let timer;
      const t = new Promise((res) => { timer = setTimeout(() => res('timeout'), timeoutMs * SCALE); });
      const r = await Promise.race([this.exit, t]);
      clearTimeout(timer);
      if (r === 'timeout') {
        this.proc.kill('SIGKILL');
        await this.exit;
      } else {
        result = r.code;
      }
    } else {
      result = this.proc.exitCode;
    }
    this.proc = null;
    rmSync(this.dir, { recursive: true, force: true });
    return result;
  }

  async getTrace(traceId, key = this.key()) {
    return fetch(`${this.http}/api/v1/traces/${traceId}`, { headers: { 'x-honeycomb-team': key } });
  }

  // Polls until the trace has at least minSpans spans; returns the JSON document.
  async waitTrace(traceId, minSpans = 1, timeoutMs = 10000) {
    const deadline = Date.now() + timeoutMs * SCALE;
    let last = '';
    for (;;) {
      const r = await this.getTrace(traceId);
      const text = await r.text();
      last = `${r.status} ${text.slice(0, 2000)}`;
      if (r.status === 200) {
        const doc = JSON.parse(text);
        if (flatten(doc).length >= minSpans) return doc;
      }
      if (Date.now() > deadline) throw new Error(`trace ${traceId} not complete: ${last}\n${this.logTail()}`);
      await sleep(50);
    }
  }
}

export function flatten(doc) {
  const out = [];
  const walk = (nodes) => { for (const n of nodes || []) { out.push(n); walk(n.children); } };
  walk(doc.spans);
  return out;
}
