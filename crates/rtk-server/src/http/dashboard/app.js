// rtk's dashboard: apps → meetings → sessions, a live session updating as its events arrive
// (server-sent events from rtk, read with fetch so the API token stays in a header), and an
// API reference from /openapi.json. Everything goes through the public API with the token
// the user signs in with; the token is kept in this tab only (sessionStorage).
'use strict';

const main = () => document.getElementById('main');
const creds = () => JSON.parse(sessionStorage.getItem('rtk') || 'null');
let stopStream = null; // closes the live session's event stream, when one is open

function esc(v) {
  return String(v ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}
const num = (x) => (Number.isInteger(x) ? String(x) : Number(x ?? 0).toFixed(2));
const time = (t) => (t ? new Date(t).toISOString().replace('T', ' ').slice(0, 19) : '—');

async function api(path) {
  return get(`/client/v4/accounts/${encodeURIComponent(creds().account)}/realtime/kit${path}`);
}

// rtk's own extensions, under /_rtk/accounts/{account_id}/apps/{app_id}.
async function rtk(appId, path) {
  return get(`/_rtk/accounts/${encodeURIComponent(creds().account)}/apps/${encodeURIComponent(appId)}${path}`);
}

async function get(url) {
  const c = creds();
  const r = await fetch(url, {
    headers: { Authorization: `Bearer ${c.token}` },
  });
  const body = await r.json().catch(() => ({}));
  if (!r.ok) throw new Error(body?.errors?.[0]?.message || `${r.status} ${r.statusText}`);
  return body;
}

function page(html) {
  main().innerHTML = html;
}

function signin(message) {
  page(`<h1>Sign in</h1>
  <form class="signin" id="signin">
    <label>Account id <input id="account" autocomplete="username" required></label>
    <label>API token <input id="token" type="password" autocomplete="current-password" required></label>
    <button id="sign-in" type="submit">Sign in</button>
    <p class="err" id="signin-error">${esc(message || '')}</p>
    <p>The first start of <code>rtk serve</code> wrote both to <code>rtk-data/credentials.json</code>.</p>
  </form>`);
  document.getElementById('signin').addEventListener('submit', async (e) => {
    e.preventDefault();
    sessionStorage.setItem('rtk', JSON.stringify({
      account: document.getElementById('account').value.trim(),
      token: document.getElementById('token').value.trim(),
    }));
    try {
      await api('/apps?per_page=1');
      route();
    } catch (err) {
      sessionStorage.removeItem('rtk');
      signin(`Not signed in: ${err.message}`);
    }
  });
}

async function apps() {
  const r = await api('/apps?per_page=100');
  page(`<h1>Apps</h1><table id="app-list"><tr><th>name</th><th>id</th><th>created</th></tr>
  ${r.data.map((a) => `<tr><td><a href="#/apps/${esc(a.id)}">${esc(a.name)}</a></td><td><code>${esc(a.id)}</code></td><td>${time(a.created_at)}</td></tr>`).join('')}</table>`);
}

async function app(id) {
  const [m, s] = await Promise.all([api(`/${id}/meetings?per_page=100`), api(`/${id}/sessions?per_page=20`)]);
  page(`<h1>App <code>${esc(id)}</code></h1>
  <h2>Meetings</h2><table id="meeting-list"><tr><th>title</th><th>status</th><th>id</th></tr>
  ${m.data.map((x) => `<tr><td><a href="#/apps/${esc(id)}/meetings/${esc(x.id)}">${esc(x.title || '(untitled)')}</a></td><td>${esc(x.status)}</td><td><code>${esc(x.id)}</code></td></tr>`).join('')}</table>
  <h2>Recent sessions</h2>${sessionTable(id, s.data.sessions)}`);
}

function sessionTable(appId, sessions) {
  return `<table class="session-list"><tr><th>session</th><th>meeting</th><th>status</th><th>live</th><th>max</th><th>minutes</th><th>started</th></tr>
  ${sessions.map((x) => `<tr><td><a href="#/apps/${esc(appId)}/sessions/${esc(x.id)}"><code>${esc(x.id)}</code></a></td><td>${esc(x.meeting_display_name)}</td><td class="${esc(x.status)}">${esc(x.status)}</td><td>${x.live_participants}</td><td>${x.max_concurrent_participants}</td><td>${num(x.minutes_consumed)}</td><td>${time(x.started_at)}</td></tr>`).join('')}</table>`;
}

async function meeting(appId, id) {
  const [m, s] = await Promise.all([api(`/${appId}/meetings/${id}`), api(`/${appId}/sessions?per_page=50&associated_id=${encodeURIComponent(id)}`)]);
  const live = s.data.sessions.find((x) => x.status === 'LIVE');
  if (live) return session(appId, live.id, m.data);
  page(`<h1>${esc(m.data.title || 'Meeting')}</h1><p>No live session: one starts when a participant joins.</p>
  <p id="session-status">idle</p><h2>Sessions</h2>${sessionTable(appId, s.data.sessions)}`);
  // No session yet: the page learns of one only by being opened again (the API has no
  // meeting-level stream).
}

// Participants over time (a step line) from each peer's joined_at/left_at.
function chart(peers, start, end) {
  const t0 = Date.parse(start);
  const t1 = Math.max(end ? Date.parse(end) : Date.now(), t0 + 1000);
  const edges = [];
  for (const p of peers) {
    edges.push([Date.parse(p.joined_at), 1]);
    if (p.left_at) edges.push([Date.parse(p.left_at), -1]);
  }
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const W = 640, H = 140, pad = 24;
  let n = 0, max = 1;
  const pts = [[t0, 0]];
  for (const [t, d] of edges) {
    pts.push([t, n]);
    n += d;
    max = Math.max(max, n);
    pts.push([t, n]);
  }
  pts.push([t1, n]);
  const x = (t) => pad + ((t - t0) / (t1 - t0)) * (W - 2 * pad);
  const y = (v) => H - pad - (v / max) * (H - 2 * pad);
  const line = pts.map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
  return `<svg id="chart" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="participants over time">
    <line class="axis" x1="${pad}" y1="${H - pad}" x2="${W - pad}" y2="${H - pad}"/>
    <polyline class="line" points="${line}"/>
    <text x="${pad}" y="${H - 6}">${esc(time(start))}</text><text x="${W - pad - 120}" y="${H - 6}">${esc(time(end) === '—' ? 'now' : time(end))}</text>
    <text x="2" y="${y(max) + 4}">${max}</text></svg>`;
}

// One bar per peer from its join to its leave (or now); its lost connections drawn over it,
// from the drop to the resume (or to its leave, or now, if it did not come back).
function timeline(peers, start, end, gaps) {
  const t0 = Date.parse(start);
  const t1 = Math.max(end ? Date.parse(end) : Date.now(), t0 + 1000);
  const W = 640, row = 18, pad = 150;
  const H = Math.max(row * peers.length + 8, 26);
  const x = (t) => pad + ((t - t0) / (t1 - t0)) * (W - pad - 10);
  const bars = peers.map((p, i) => {
    const a = x(Date.parse(p.joined_at));
    const b = x(p.left_at ? Date.parse(p.left_at) : t1);
    const holes = gaps.filter((g) => g.peer_id === p.id).map((g) => {
      const ga = x(Date.parse(g.dropped_at));
      const gb = x(g.resumed_at ? Date.parse(g.resumed_at) : (p.left_at ? Date.parse(p.left_at) : t1));
      return `<rect class="gap${g.resumed_at ? ' resumed' : ''}" x="${ga.toFixed(1)}" y="${i * row + 6}" width="${Math.max(gb - ga, 2).toFixed(1)}" height="12"><title>${esc(`dropped ${time(g.dropped_at)} → ${g.resumed_at ? `resumed ${time(g.resumed_at)}` : 'did not come back'}`)}</title></rect>`;
    });
    return `<text x="4" y="${i * row + 16}">${esc(p.display_name || p.custom_participant_id)}</text>
      <rect class="bar" x="${a.toFixed(1)}" y="${i * row + 6}" width="${Math.max(b - a, 2).toFixed(1)}" height="12"><title>${esc(`${time(p.joined_at)} → ${p.left_at ? time(p.left_at) : 'still in'}`)}</title></rect>${holes.join('')}`;
  });
  return `<svg id="timeline" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">${bars.join('')}</svg>`;
}

async function session(appId, id, meetingDoc) {
  if (stopStream) stopStream();
  const names = new Map(); // peer id → name, for the event log
  const render = async () => {
    const [d, p, g, c] = await Promise.all([
      api(`/${appId}/sessions/${id}?include_breakout_rooms=true`),
      api(`/${appId}/sessions/${id}/participants?per_page=100&sort_by=joinedAt&sort_order=ASC`),
      rtk(appId, `/sessions/${id}/peer-gaps`),
      api(`/${appId}/sessions/${id}/chat?per_page=100`),
    ]);
    const chat = c.data.messages || [];
    const chatTotal = c.paging?.total_count ?? chat.length;
    const s = d.data.session || d.data;
    const peers = p.data.participants;
    for (const x of peers) names.set(x.id, x.display_name || x.custom_participant_id);
    const rooms = s.breakout_rooms || [];
    const log = document.getElementById('events')?.innerHTML || '';
    page(`<h1>${esc(meetingDoc?.title || s.meeting_display_name || 'Session')} <span id="session-status" class="${esc(s.status)}">${esc(s.status)}</span></h1>
    <div class="cards">
      <div class="card"><div class="n" id="live-count">${s.live_participants}</div><div class="l">live participants</div></div>
      <div class="card"><div class="n" id="max-count">${s.max_concurrent_participants}</div><div class="l">max concurrent</div></div>
      <div class="card"><div class="n">${num(s.minutes_consumed)}</div><div class="l">minutes consumed</div></div>
      <div class="card"><div class="n">${time(s.started_at).slice(11)}</div><div class="l">started ${esc(time(s.started_at).slice(0, 10))}</div></div>
      <div class="card"><div class="n">${s.ended_at ? time(s.ended_at).slice(11) : '—'}</div><div class="l">ended</div></div>
    </div>
    <h2>Participants over time</h2>${chart(peers, s.started_at, s.ended_at)}
    <h2>Peer timeline <small>(lost connections in grey, outlined in red if the peer did not come back)</small></h2>${timeline(peers, s.started_at, s.ended_at, g.data)}
    <table id="peers"><tr><th>name</th><th>custom id</th><th>peer</th><th>joined</th><th>left</th><th>minutes</th></tr>
    ${peers.map((x) => `<tr><td>${esc(x.display_name)}</td><td>${esc(x.custom_participant_id)}</td><td><code>${esc(x.id)}</code></td><td>${time(x.joined_at)}</td><td>${x.left_at ? time(x.left_at) : '<span class="LIVE">in</span>'}</td><td>${num(x.duration)}</td></tr>`).join('')}</table>
    <h2>Breakout rooms</h2>${rooms.length ? sessionTable(appId, rooms) : '<p>None.</p>'}
    <h2>Chat <small>(${chatTotal} message${chatTotal === 1 ? '' : 's'}${chatTotal > chat.length ? `, the first ${chat.length} shown` : ''}; <a href="${esc(c.data.chat_download_url)}">all as CSV</a>)</small></h2>
    ${chat.length ? `<table id="chat"><tr><th>sent</th><th>from</th><th>message</th></tr>${chat.map((m) => `<tr><td>${time(m.sent_at)}</td><td>${esc(m.display_name || names.get(m.peer_id) || m.peer_id)}</td><td>${esc(m.message)}</td></tr>`).join('')}</table>` : '<p id="chat">None.</p>'}
    <h2>Events and chat <small>(as they happen, while this page is open)</small></h2><div id="events">${log}</div>`);
    return s.status;
  };
  const status = await render();
  if (status !== 'LIVE') return;
  // The session's events as they happen; each one re-reads the session (no polling loop).
  const c = creds();
  const ctl = new AbortController();
  stopStream = () => ctl.abort();
  const url = `/_rtk/accounts/${encodeURIComponent(c.account)}/apps/${encodeURIComponent(appId)}/sessions/${encodeURIComponent(id)}/events`;
  const r = await fetch(url, { headers: { Authorization: `Bearer ${c.token}` }, signal: ctl.signal });
  if (!r.ok || !r.body) return;
  const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
  let buf = '';
  let pending = Promise.resolve();
  for (;;) {
    let chunk;
    try {
      chunk = await reader.read();
    } catch {
      return; // navigated away
    }
    if (chunk.done) break;
    buf += chunk.value;
    let cut;
    while ((cut = buf.indexOf('\n\n')) >= 0) {
      const frame = buf.slice(0, cut);
      buf = buf.slice(cut + 2);
      const kind = /^event: ?(.*)$/m.exec(frame)?.[1];
      const data = /^data: ?(.*)$/m.exec(frame)?.[1];
      if (!kind || kind === 'hello') continue;
      let ev = {};
      try { ev = JSON.parse(data || '{}'); } catch { /* not JSON */ }
      const line = kind === 'chat'
        ? `<b>${esc(ev.display_name)}</b>: ${esc(ev.message)}`
        : `<span class="op">${esc(kind)}</span> ${esc(ev.peer?.display_name || names.get(ev.peer_id) || ev.peer_id || ev.reason || '')}${ev.reason && ev.peer_id ? ` (${esc(ev.reason)})` : ''}`;
      pending = pending.then(async () => {
        await render();
        document.getElementById('events').insertAdjacentHTML('beforeend', `<div>${esc(time(new Date()))} ${line}</div>`);
      }).catch((e) => console.error(e));
      if (kind === 'session_ended') {
        await pending;
        return;
      }
    }
  }
}

async function reference() {
  const doc = await (await fetch('/openapi.json')).json();
  const groups = {};
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!op || typeof op !== 'object' || !op.responses) continue;
      const tag = op.tags?.[0] || 'other';
      (groups[tag] ||= []).push({ path, method, op });
    }
  }
  const params = (op) => (op.parameters || []).map((p) => `<tr><td><code>${esc(p.name)}</code></td><td>${esc(p.in)}</td><td>${p.required ? 'required' : ''}</td><td>${esc(p.description)}</td></tr>`).join('');
  const resp = (op) => Object.entries(op.responses).map(([code, r]) => `<tr><td>${esc(code)}</td><td>${esc(r.description || '')}</td></tr>`).join('');
  page(`<h1>${esc(doc.info.title)} <small>${esc(doc.info.version)}</small></h1><p>${esc(doc.info.description || '')}</p>
  <p><a href="/openapi.json">/openapi.json</a></p>
  <div id="reference">${Object.entries(groups).sort().map(([tag, ops]) => `<h2>${esc(tag)}</h2>${ops.map(({ path, method, op }) => `
    <details><summary><span class="op ${esc(method)}">${esc(method)}</span> <code>${esc(path)}</code> — ${esc(op.summary || '')}</summary>
    ${op.description ? `<p>${esc(op.description)}</p>` : ''}
    ${params(op) ? `<table><tr><th>parameter</th><th>in</th><th></th><th></th></tr>${params(op)}</table>` : ''}
    <table><tr><th>status</th><th>answer</th></tr>${resp(op)}</table></details>`).join('')}`).join('')}</div>`);
}

async function route() {
  if (stopStream) {
    stopStream();
    stopStream = null;
  }
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  const c = creds();
  document.getElementById('who').textContent = c ? `account ${c.account}` : '';
  document.getElementById('sign-out').hidden = !c;
  try {
    if (parts[0] === 'api') return await reference();
    if (!c) return signin();
    if (parts[0] === 'apps' && parts[2] === 'meetings' && parts[3]) return await meeting(parts[1], parts[3]);
    if (parts[0] === 'apps' && parts[2] === 'sessions' && parts[3]) return await session(parts[1], parts[3]);
    if (parts[0] === 'apps' && parts[1]) return await app(parts[1]);
    return await apps();
  } catch (e) {
    page(`<p class="err" id="error">${esc(e.message)}</p>`);
  }
}

window.addEventListener('hashchange', route);
window.addEventListener('DOMContentLoaded', () => {
  document.getElementById('sign-out').addEventListener('click', () => {
    sessionStorage.removeItem('rtk');
    location.hash = '#/';
    route();
  });
  route();
});
