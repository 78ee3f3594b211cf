import { createHash } from 'node:crypto';

// The inspector's one page: HTML, CSS and script in this module, so the package ships it with no
// build step and it works offline. The script builds every element with createElement and puts
// every value in with textContent (never innerHTML), and the Content-Security-Policy allows only
// this exact script and style (by hash) and requests to the page's own origin.

const STYLE = `
:root { color-scheme: light dark; --bg: #fbfbfa; --fg: #1d1d1b; --muted: #6b6b66; --line: #e2e1dc; --panel: #ffffff;
  --ok: #17794a; --warn: #a35a00; --bad: #b42318; --accent: #3155d4; --sel: #eef2ff; }
@media (prefers-color-scheme: dark) { :root { --bg: #151515; --fg: #ececea; --muted: #9d9d97; --line: #2e2e2c; --panel: #1c1c1b;
  --ok: #4ec38a; --warn: #f0a640; --bad: #f47066; --accent: #8ea6ff; --sel: #23283a; } }
* { box-sizing: border-box; }
html, body { height: 100%; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: var(--fg);
  display: grid; grid-template-rows: auto auto minmax(0, 1fr); }
header { display: flex; flex-wrap: wrap; align-items: center; gap: 12px; padding: 10px 16px; border-bottom: 1px solid var(--line); background: var(--panel); }
h1 { font-size: 16px; margin: 0; font-weight: 650; }
h2 { font-size: 16px; margin: 0 0 4px; }
h3 { font-size: 13px; margin: 14px 0 6px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
.pill { font-size: 12px; padding: 2px 8px; border-radius: 999px; border: 1px solid var(--line); color: var(--muted); }
.pill.live { color: var(--ok); border-color: var(--ok); }
.about { color: var(--muted); font-size: 12px; }
.banner { flex-basis: 100%; padding: 6px 10px; border-radius: 6px; background: var(--bad); color: #fff; font-weight: 600; }
.toolbar { display: flex; flex-wrap: wrap; gap: 16px; align-items: center; padding: 8px 16px; border-bottom: 1px solid var(--line); }
.toolbar form { display: flex; gap: 6px; align-items: center; margin: 0; }
select, button, .button { font: inherit; padding: 3px 8px; border-radius: 6px; border: 1px solid var(--line); background: var(--panel); color: var(--fg); }
button, .button { cursor: pointer; text-decoration: none; display: inline-block; }
button:hover, .button:hover { border-color: var(--accent); }
button:disabled { opacity: .5; cursor: default; }
#action-result { font-size: 13px; color: var(--muted); }
main { display: grid; grid-template-columns: minmax(460px, 1.2fr) minmax(380px, 1fr); min-height: 0; }
#list-pane { border-right: 1px solid var(--line); overflow: auto; min-height: 0; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: 12px; color: var(--muted); font-weight: 600; position: sticky; top: 0; background: var(--bg); }
#list tbody tr { cursor: pointer; }
#list tbody tr:hover { background: var(--sel); }
#list tbody tr[aria-selected="true"] { background: var(--sel); box-shadow: inset 3px 0 var(--accent); }
.num { text-align: right; font-variant-numeric: tabular-nums; }
.mono, pre, code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; }
.status { font-weight: 700; }
.ok .status, .badge.ok { color: var(--ok); }
.refused .status, .badge.refused { color: var(--warn); }
.failed .status, .badge.failed { color: var(--bad); }
.reason { color: var(--muted); }
.time { white-space: nowrap; }
.answer .code { display: block; font-size: 12px; color: var(--muted); }
.tag.unverified { color: var(--warn); }
.tag { margin-left: 6px; font-size: 11px; padding: 0 6px; border-radius: 4px; background: var(--sel); color: var(--accent); white-space: nowrap; }
#empty { padding: 16px; color: var(--muted); }
#detail { padding: 12px 16px 40px; overflow: auto; min-height: 0; }
.meta { color: var(--muted); margin: 0 0 8px; word-break: break-all; }
.why { border-left: 3px solid var(--ok); padding: 6px 10px; background: var(--panel); border-radius: 0 6px 6px 0; }
.why.refused { border-color: var(--warn); }
.why.failed { border-color: var(--bad); }
.why .summary { font-weight: 600; margin: 2px 0; }
.why ul { margin: 4px 0 0; padding-left: 18px; }
.check { font-size: 12px; color: var(--muted); margin: 0; }
.actions { display: grid; gap: 8px; }
.explain { color: var(--muted); font-size: 12.5px; margin: 2px 0 0; }
pre { background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px; overflow: auto; max-height: 420px; margin: 0; white-space: pre-wrap; word-break: break-word; }
.headers td:first-child { color: var(--muted); white-space: nowrap; }
.headers td { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; word-break: break-all; }
.ran-ok { color: var(--ok); } .ran-failed { color: var(--bad); }
details summary { cursor: pointer; color: var(--muted); font-size: 12px; }
@media (max-width: 900px) { body { display: block; height: auto; } main { grid-template-columns: 1fr; } #list-pane { border-right: 0; } }
`;

const SCRIPT = `'use strict';
(function () {
  var base = location.pathname.endsWith('/') ? '' : location.pathname.slice(location.pathname.lastIndexOf('/') + 1) + '/';
  var api = function (path) { return base + 'api/' + path; };
  var state = { about: null, rows: new Map(), selected: null };
  var $ = function (id) { return document.getElementById(id); };

  function el(tag, attrs) {
    var node = document.createElement(tag);
    if (attrs) Object.keys(attrs).forEach(function (name) {
      var value = attrs[name];
      if (value === null || value === undefined || value === false) return;
      if (name === 'text') node.textContent = String(value);
      else node.setAttribute(name, value === true ? '' : String(value));
    });
    for (var i = 2; i < arguments.length; i++) {
      var child = arguments[i];
      if (Array.isArray(child)) child.forEach(function (c) { if (c !== null && c !== undefined && c !== false) node.append(c); });
      else if (child !== null && child !== undefined && child !== false) node.append(child);
    }
    return node;
  }

  function pad(n, w) { return String(n).padStart(w || 2, '0'); }
  function clock(ms) { var d = new Date(ms); return pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds()) + '.' + pad(d.getMilliseconds(), 3); }
  function millis(ms) { return ms < 10 ? ms.toFixed(2) : ms < 100 ? ms.toFixed(1) : String(Math.round(ms)); }
  function minutes(ms) { var s = Math.round(ms / 1000); return s % 60 === 0 ? (s / 60) + ' min' : s + ' s'; }
  function kind(status) { return status >= 500 ? 'failed' : status >= 400 ? 'refused' : 'ok'; }

  async function getJson(path) {
    var response = await fetch(path, { headers: { accept: 'application/json' } });
    var body = await response.json();
    if (!response.ok) throw new Error(body.error || response.statusText);
    return body;
  }

  async function post(path) {
    var response = await fetch(path, { method: 'POST', headers: { 'x-inspector-page': '1' } });
    var body = await response.json().catch(function () { return { error: response.statusText }; });
    if (!response.ok) throw new Error(body.error || response.statusText);
    return body;
  }

  function row(s) {
    var tr = el('tr', { 'data-seq': s.seq, 'data-status': s.status, 'data-outcome': s.outcome, 'class': kind(s.status), tabindex: 0 },
      el('td', { 'class': 'num mono', text: '#' + s.seq }),
      el('td', { 'class': 'time mono', title: new Date(s.at).toISOString(), text: clock(s.at).slice(0, 8) }),
      el('td', { 'class': 'event' }, eventLabel(s), s.claimedEvent ? el('span', { 'class': 'tag unverified', title: 'the event field of a body that was not verified', text: 'unverified' }) : null,
        s.action ? el('span', { 'class': 'tag', text: s.action }) : null),
      el('td', { 'class': 'answer' }, el('span', { 'class': 'status', text: s.status }), ' ', el('span', { 'class': 'code', text: s.code || s.outcome })),
      el('td', { 'class': 'reason', text: s.reason }),
      el('td', { 'class': 'num mono', text: millis(s.durationMs) }));
    tr.addEventListener('click', function () { select(s.seq); });
    tr.addEventListener('keydown', function (e) { if (e.key === 'Enter') select(s.seq); });
    if (s.seq === state.selected) tr.setAttribute('aria-selected', 'true');
    return tr;
  }

  function eventLabel(s) { return s.event || s.claimedEvent || (s.method ? s.method + ' ' + (s.url || '') : '(no event)'); }

  function add(s) {
    if (state.rows.has(s.seq)) return;
    var tr = row(s);
    state.rows.set(s.seq, tr);
    var body = $('list').tBodies[0];
    var before = null;
    for (var i = 0; i < body.rows.length; i++) if (Number(body.rows[i].dataset.seq) < s.seq) { before = body.rows[i]; break; }
    body.insertBefore(tr, before);
    var limit = state.about ? state.about.limit : 200;
    while (body.rows.length > limit) { var last = body.rows[body.rows.length - 1]; state.rows.delete(Number(last.dataset.seq)); last.remove(); }
    $('empty').hidden = body.rows.length > 0;
    $('count').textContent = body.rows.length + ' shown';
  }

  function setAbout(about) {
    state.about = about;
    $('production').hidden = !about.production;
    $('about').textContent = 'keeps the last ' + about.limit + ' deliveries · tolerance ' + (about.toleranceMs === null ? 'off' : minutes(about.toleranceMs)) +
      ' · ' + (about.allowRemote ? 'open to remote clients (allowRemote)' : 'loopback clients only');
    [['sample-event', about.samples], ['wrong-event', about.samples]].forEach(function (pair) {
      var select = $(pair[0]);
      if (select.options.length > 0) return;
      pair[1].forEach(function (name) { select.append(el('option', { value: name, text: name })); });
      select.value = pair[1].indexOf('chat.message.received') >= 0 ? 'chat.message.received' : pair[1][0];
    });
    var stale = $('wrong-kind').querySelector('option[value="stale"]');
    if (about.toleranceMs === null) { stale.disabled = true; stale.textContent = 'stale (the tolerance is off)'; }
  }

  async function refresh() {
    var list = await getJson(api('deliveries'));
    setAbout(list.about);
    list.deliveries.slice().reverse().forEach(add);
  }

  function connect() {
    var source = new EventSource(api('stream'));
    source.addEventListener('open', function () { $('live').textContent = 'live'; $('live').className = 'pill live'; refresh().catch(report); });
    source.addEventListener('delivery', function (e) { add(JSON.parse(e.data)); });
    source.addEventListener('error', function () { $('live').textContent = 'reconnecting…'; $('live').className = 'pill'; });
  }

  function report(error) { $('action-result').textContent = String(error && error.message || error); }

  function said(label, result) {
    $('action-result').textContent = label + ' → ' + result.status + ' ' + (result.code || result.outcome) + (result.seq ? ' (#' + result.seq + ')' : '');
    if (result.seq) select(result.seq);
  }

  async function select(seq) {
    state.selected = seq;
    state.rows.forEach(function (tr, n) { if (n === seq) tr.setAttribute('aria-selected', 'true'); else tr.removeAttribute('aria-selected'); });
    try { render(await getJson(api('deliveries/' + seq))); } catch (error) { $('detail').replaceChildren(el('p', { 'class': 'explain', text: String(error.message) })); }
  }

  function section(title) { return el('h3', { text: title }); }

  function render(d) {
    if (d.seq !== state.selected) return;
    var k = kind(d.status);
    var tolerance = state.about && state.about.toleranceMs !== null ? minutes(state.about.toleranceMs) : null;
    var parts = [];
    parts.push(el('h2', null, '#' + d.seq + ' ' + eventLabel(d) + (d.claimedEvent ? ' (unverified)' : '') + ' ', el('span', { 'class': 'badge ' + k, id: 'detail-status', text: d.status + ' ' + (d.code || d.outcome) })));
    parts.push(el('p', { 'class': 'meta mono', text: new Date(d.at).toISOString() + ' · ' + (d.method ? d.method + ' ' : d.url ? '' : 'receive() ') + (d.url || '') + ' · ' + millis(d.durationMs) + ' ms' + (d.deliveryId ? ' · id ' + d.deliveryId : '') + (d.action ? ' · made by the inspector: ' + d.action : '') }));
    parts.push(el('section', { 'class': 'why ' + k, id: 'why' },
      el('p', { 'class': 'check', text: (d.error ? 'Refused at: ' : 'Decided at: ') + d.explanation.check }),
      el('p', { 'class': 'summary', text: d.explanation.summary }),
      d.explanation.details.length ? el('ul', null, d.explanation.details.map(function (line) { return el('li', { text: line }); })) : null));

    parts.push(section('Handlers'));
    if (d.handlerRuns.length === 0) parts.push(el('p', { 'class': 'explain', text: d.error && d.status < 500 ? 'None ran: it was refused first.' : 'None ran.' }));
    else parts.push(el('table', { id: 'handlers' }, el('tbody', null, d.handlerRuns.map(function (run) {
      return el('tr', { 'data-ok': String(run.ok) },
        el('td', { 'class': 'mono', text: (run.name || '(anonymous)') + ' ' + run.key }),
        el('td', { 'class': run.ok ? 'ran-ok' : 'ran-failed', text: run.ok ? 'ok' : 'threw' }),
        el('td', { 'class': 'num mono', text: millis(run.ms) + ' ms' }),
        el('td', null, run.error ? el('span', { text: run.error }) : null, run.stack ? el('details', null, el('summary', { text: 'stack' }), el('pre', { text: run.stack })) : null));
    }))));

    parts.push(section('Actions'));
    var replay = el('button', { id: 'replay', type: 'button', disabled: !d.replay.available, text: 'Replay as a fresh delivery' });
    replay.addEventListener('click', function () { replay.disabled = true; post(api('replay/' + d.seq)).then(function (r) { said('replay of #' + d.seq, r); }, report).finally(function () { replay.disabled = false; }); });
    var fixture = d.fixture.available
      ? el('a', { id: 'fixture', 'class': 'button', href: api('deliveries/' + d.seq + '/fixture'), download: d.fixture.fileName, text: 'Save as fixture (' + d.fixture.fileName + ')' })
      : el('button', { id: 'fixture', type: 'button', disabled: true, text: 'Save as fixture' });
    var copy = el('button', { id: 'copy-snippet', type: 'button', disabled: !d.fixture.available, text: 'Copy a test snippet' });
    copy.addEventListener('click', function () {
      navigator.clipboard.writeText(d.fixture.snippet).then(function () { copy.textContent = 'Copied'; }, function () { copy.textContent = 'Select the snippet below and copy it'; });
    });
    parts.push(el('div', { 'class': 'actions' },
      el('div', null, replay, el('p', { 'class': 'explain', id: 'replay-rules', text: d.replay.available
        ? 'Sends this body again through the receiver as a fresh delivery: a new timestamp (so a new delivery id), signed with the receiver\\'s secret, with the original headers, and its handlers run again. The same bytes would not: the receiver remembers each processed delivery by the SHA-256 of its body (dedupe) and answers a copy 200 duplicate without running handlers, and it refuses a timestamp more than ' + (tolerance || 'the tolerance') + ' from now (freshness' + (tolerance ? '' : ': off') + ').'
        : d.replay.reason })),
      el('div', null, fixture, ' ', copy, el('p', { 'class': 'explain', text: d.fixture.available
        ? 'The body as a JSON file for tests: createDelivery(fixture.event, fixture.data, { secret }) or aicommerce.send(fixture.event, fixture.data) from aicommerce-webhooks/testing.'
        : d.fixture.reason })),
      d.fixture.snippet ? el('details', null, el('summary', { text: 'test snippet' }), el('pre', { id: 'snippet', text: d.fixture.snippet })) : null));

    parts.push(section('Headers'));
    parts.push(el('table', { 'class': 'headers', id: 'headers' }, el('tbody', null, d.headers.map(function (h) { return el('tr', null, el('td', { text: h[0] }), el('td', { text: h[1] })); }))));

    parts.push(section('Body' + (d.body.kind === 'none' ? '' : ' (' + d.body.bytes + ' bytes' + (d.body.kind === 'json' ? ', JSON' : d.body.kind === 'binary' ? ', not UTF-8: hex' : ', not JSON: as received') + (d.body.truncated ? ', only the start kept' : '') + ')')));
    parts.push(d.body.kind === 'none' ? el('p', { 'class': 'explain', text: 'Never read: the delivery was refused before its body.' }) : el('pre', { id: 'body', text: d.body.text }));
    $('detail').replaceChildren.apply($('detail'), parts);
  }

  $('sample-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var name = $('sample-event').value;
    post(api('sample/' + encodeURIComponent(name))).then(function (r) { said('sample ' + name, r); }, report);
  });
  $('wrong-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var how = $('wrong-kind').value, name = $('wrong-event').value;
    post(api('wrong/' + how + '/' + encodeURIComponent(name))).then(function (r) { said(how + ' ' + name, r); }, report);
  });

  refresh().catch(report).finally(connect);
})();
`;

const scriptHash = createHash('sha256').update(SCRIPT).digest('base64');
const styleHash = createHash('sha256').update(STYLE).digest('base64');

/** Only this page's own script and style, requests to its own origin, no frames, no forms, no base. */
export const PAGE_CSP = [
  "default-src 'none'",
  `script-src 'sha256-${scriptHash}'`,
  `style-src 'sha256-${styleHash}'`,
  "connect-src 'self'",
  "img-src 'self' data:",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Webhook inspector · aicommerce-webhooks</title>
<link rel="icon" href="data:,">
<style>${STYLE}</style>
</head>
<body>
<header>
  <h1>AICommerce webhooks · inspector</h1>
  <span id="live" class="pill">connecting…</span>
  <span id="count" class="about"></span>
  <span id="about" class="about"></span>
  <div id="production" class="banner" role="alert" hidden>NODE_ENV=production: this inspector runs in production because allowInProduction: true was passed. It shows deliveries and can send signed ones.</div>
</header>
<section class="toolbar" aria-label="Send">
  <form id="sample-form"><label for="sample-event">Send a sample</label> <select id="sample-event"></select> <button id="send-sample" type="submit">Send</button></form>
  <form id="wrong-form"><label for="wrong-kind">Send it wrong</label>
    <select id="wrong-kind">
      <option value="forged" title="signed with another secret: 401 invalid_signature">forged (another secret)</option>
      <option value="tampered" title="a field changed after signing: 401 invalid_signature">tampered (changed after signing)</option>
      <option value="stale" title="a timestamp twice the tolerance old: 401 stale_timestamp">stale (old timestamp)</option>
      <option value="invalid" title="data without its storeId: 400 invalid_payload">invalid (fails the schema)</option>
    </select>
    <select id="wrong-event" aria-label="event"></select> <button id="send-wrong" type="submit">Send</button></form>
  <span id="action-result" role="status"></span>
</section>
<main>
  <section id="list-pane" aria-label="Deliveries">
    <table id="list"><thead><tr><th>#</th><th>time</th><th>event</th><th>answer</th><th>why</th><th class="num">ms</th></tr></thead><tbody></tbody></table>
    <p id="empty">No delivery yet. Deliveries this receiver answers appear here as they arrive; or send a sample above.</p>
  </section>
  <section id="detail" aria-label="Delivery" aria-live="polite"><p class="explain">Select a delivery to see its headers, its body, why it was answered as it was, and each handler's result.</p></section>
</main>
<script>${SCRIPT}</script>
</body>
</html>
`;
