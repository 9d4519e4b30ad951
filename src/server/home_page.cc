#include "server/home_page.h"

namespace waggle {

std::string_view HomePageHtml() {
  static constexpr std::string_view kPage = R"HTML(<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>waggle</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px system-ui,sans-serif;margin:0;color:#1d2330;background:#f7f8fa}
header{background:#1d2330;color:#fff;padding:10px 20px;display:flex;gap:16px;align-items:center}
header b{font-size:18px} header input{font:inherit;padding:3px 6px;width:220px}
main{padding:16px 20px} table{border-collapse:collapse;width:100%;background:#fff}
th,td{text-align:left;padding:5px 8px;border-bottom:1px solid #e4e7ec;white-space:nowrap}
tr.trace{cursor:pointer} tr.trace:hover{background:#eef3ff} .err{color:#c0262d;font-weight:600}
.num{text-align:right;font-variant-numeric:tabular-nums} #trace{margin-top:18px}
.row{display:grid;grid-template-columns:420px 1fr 90px;align-items:center;border-bottom:1px solid #eef0f3;background:#fff}
.label{overflow:hidden;text-overflow:ellipsis;white-space:nowrap;padding:3px 6px}
.lane{position:relative;height:18px} .bar{position:absolute;top:3px;height:12px;border-radius:2px;background:#4c7cf3}
.bar.error{background:#c0262d} .svc{color:#5b6472} .muted{color:#8a93a3}
</style></head><body>
<header><b>waggle</b><span class="muted" id="status"></span>
<span style="flex:1"></span><label>API key <input id="key" placeholder="x-honeycomb-team (optional)"></label></header>
<main>
<table><thead><tr><th>start</th><th>root service</th><th>root span</th><th class="num">duration</th>
<th class="num">spans</th><th>services</th><th>trace id</th></tr></thead><tbody id="traces"></tbody></table>
<div id="trace"></div>
</main>
<script>
const keyInput = document.getElementById('key');
keyInput.value = localStorage.getItem('waggle.key') || '';
keyInput.onchange = () => { localStorage.setItem('waggle.key', keyInput.value); refresh(); };
const el = (tag, attrs = {}, ...kids) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) k === 'class' ? e.className = v : e.setAttribute(k, v);
  for (const k of kids) e.append(k);
  return e;
};
async function api(path) {
  const headers = keyInput.value ? {'x-honeycomb-team': keyInput.value} : {};
  const r = await fetch(path, {headers});
  if (!r.ok) throw new Error(r.status + ' ' + (await r.text()));
  return r.json();
}
const ms = v => v < 1 ? v.toFixed(3) + ' ms' : v < 1000 ? v.toFixed(1) + ' ms' : (v / 1000).toFixed(2) + ' s';
async function refresh() {
  try {
    const {traces} = await api('/api/v1/traces?limit=50');
    const body = document.getElementById('traces');
    body.replaceChildren(...traces.map(t => {
      const tr = el('tr', {class: 'trace'},
        el('td', {}, new Date(t.start_unix_nano / 1e6).toLocaleTimeString()),
        el('td', {}, t.root_service), el('td', {class: t.error ? 'err' : ''}, (t.error ? '✗ ' : '') + t.root_name),
        el('td', {class: 'num'}, ms(t.duration_ms)), el('td', {class: 'num'}, String(t.span_count)),
        el('td', {class: 'svc'}, t.services.join(', ')), el('td', {class: 'muted'}, t.trace_id));
      tr.onclick = () => showTrace(t.trace_id);
      return tr;
    }));
    document.getElementById('status').textContent = traces.length + ' recent traces';
  } catch (e) { document.getElementById('status').textContent = 'error: ' + e.message; }
}
async function showTrace(id) {
  const t = await api('/api/v1/traces/' + id);
  const start = t.start_unix_nano, total = Math.max(t.duration_ms, 0.001);
  const rows = [el('h3', {}, 'trace ' + t.trace_id + ' — ' + ms(t.duration_ms))];
  const walk = (span, depth) => {
    const left = (span.start_unix_nano - start) / 1e6 / total * 100;
    const width = Math.max(span.duration_ms / total * 100, 0.3);
    rows.push(el('div', {class: 'row', title: JSON.stringify(span.attributes, null, 1)},
      el('div', {class: 'label', style: 'padding-left:' + (6 + depth * 14) + 'px'},
        el('span', {class: 'svc'}, span['service.name'] + ' '), el('span', {class: span.error ? 'err' : ''}, span.name)),
      el('div', {class: 'lane'}, el('div', {class: 'bar' + (span.error ? ' error' : ''), style: `left:${left}%;width:${width}%`})),
      el('div', {class: 'num'}, ms(span.duration_ms))));
    for (const c of span.children || []) walk(c, depth + 1);
  };
  for (const s of t.spans) walk(s, 0);
  document.getElementById('trace').replaceChildren(...rows);
}
refresh();
setInterval(refresh, 5000);
</script></body></html>
)HTML";
  return kPage;
}

}  // namespace waggle
