// Webhooks: createWebhook, getWebhooks, getWebhookByID, replaceWebhook, editWebhook (an empty
// edit too), deleteWebhook and their errors; then real deliveries to a receiver in this process
// (node:http on loopback): a session's events in order, signatures verified with
// crypto.verify('RSA-SHA256', …) and the key from /.well-known/webhooks.json.
//
// The server runs on the real clock: the session that ends by keep-alive has a 1 s keep-alive,
// and the test waits for the receiver to get meeting.ended.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { verify as rsaVerify } from 'node:crypto';
import { after, afterEach, before, beforeEach, test } from 'node:test';

import { join, stopAll } from '../lib/peers.mjs';
import { Cloudflare, assertRecent, presetDocument, rejectsWith, shape, startRtk, unique } from '../lib/rtk.mjs';
import { WEBHOOK, WEBHOOK_ENVELOPE, WEBHOOK_EVENTS, WEBHOOK_LIST } from '../lib/shapes.mjs';

const SESSION_EVENTS = ['meeting.started', 'meeting.ended', 'meeting.participantJoined', 'meeting.participantLeft'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO_MS_Z = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const WAIT_MS = 30_000;

let rtk, cf, acc, app, ids, publicKey;
const receivers = [];
before(async () => {
  rtk = await startRtk();
  cf = rtk.client();
  acc = rtk.accountId;
  const r = await fetch(`${rtk.origin}/.well-known/webhooks.json`);
  assert.equal(r.status, 200);
  const doc = await r.json();
  assert.equal(doc.success, true);
  assert.equal(doc.message, '');
  publicKey = doc.data.publicKey;
  assert.match(publicKey, /^-----BEGIN PUBLIC KEY-----\n[\s\S]+\n-----END PUBLIC KEY-----\n?$/);
});
after(() => rtk?.stop());
beforeEach(async () => {
  app = (await cf.realtimeKit.apps.post({ account_id: acc, name: unique('app') })).data.app;
  await cf.realtimeKit.presets.create(app.id, { account_id: acc, ...presetDocument('host') });
  ids = { account_id: acc, app_id: app.id };
});
afterEach(async () => {
  await stopAll();
  await Promise.all(receivers.splice(0).map((r) => r.close()));
});

const hooks = () => cf.realtimeKit.webhooks;
const member = async (m, name) =>
  (await cf.realtimeKit.meetings.addParticipant(m.id, { ...ids, custom_participant_id: unique(name.toLowerCase()), preset_name: 'host', name })).data;

/**
 * A receiver on loopback: answers the scripted statuses in turn (then 200), keeps each
 * request's path, headers and raw body, and lets a test wait for the n-th one.
 */
async function receiver(script = []) {
  const got = [];
  let waiters = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const status = script[got.length] ?? 200;
      const raw = Buffer.concat(chunks);
      got.push({ path: req.url, headers: req.headers, raw, body: raw.toString('utf8'), json: JSON.parse(raw.toString('utf8')), status });
      res.writeHead(status, { 'content-length': 0 }).end();
      const w = waiters;
      waiters = [];
      for (const f of w) f();
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const r = {
    url: `http://127.0.0.1:${server.address().port}/hook`,
    got,
    /** Resolves once `pred(got)` holds; fails after WAIT_MS. */
    async until(pred, what) {
      const deadline = Date.now() + WAIT_MS;
      while (!pred(got)) {
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no ${what} in ${WAIT_MS} ms: ${JSON.stringify(got.map((d) => d.json.event))}`);
        await new Promise((resolve) => {
          const t = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(t);
            resolve();
          });
        });
      }
      return [...got];
    },
    count: (n) => r.until((g) => g.length >= n, `${n} deliveries`),
    event: async (name) => {
      const g = await r.until((g) => g.some((d) => d.json.event === name), name);
      return g.slice(0, g.findIndex((d) => d.json.event === name) + 1);
    },
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(resolve);
    }),
  };
  receivers.push(r);
  return r;
}

/** What every delivery must be: signed (both header names), ids, body stable under JSON round trip. */
function checkDelivery(d, webhookId) {
  assert.match(d.headers['content-type'], /^application\/json/);
  const sig = Buffer.from(d.headers['rtk-signature'], 'base64');
  assert.ok(rsaVerify('RSA-SHA256', d.raw, publicKey, sig), 'rtk-signature verifies over the raw body');
  assert.ok(!rsaVerify('RSA-SHA256', Buffer.concat([d.raw, Buffer.from(' ')]), publicKey, sig), 'and over nothing else');
  // Dyte's old verifier re-serialises the parsed body: it must verify too.
  assert.equal(JSON.stringify(JSON.parse(d.body)), d.body);
  assert.ok(rsaVerify('RSA-SHA256', Buffer.from(JSON.stringify(d.json)), publicKey, sig));
  assert.equal(d.headers['dyte-signature'], d.headers['rtk-signature']);
  assert.equal(d.headers['rtk-webhook-id'], webhookId);
  assert.equal(d.headers['dyte-webhook-id'], webhookId);
  assert.match(d.headers['rtk-uuid'], UUID);
  assert.equal(d.headers['dyte-uuid'], d.headers['rtk-uuid']);
}

// ---------------------------------------------------------------------------------------------
// The management API

test('createWebhook, getWebhooks, getWebhookByID, replaceWebhook, editWebhook, deleteWebhook', async () => {
  const created = await hooks().createWebhook(app.id, { account_id: acc, name: 'all', url: 'https://example.com/all', events: WEBHOOK_EVENTS });
  shape(created, WEBHOOK_ENVELOPE);
  const w = created.data;
  assert.deepEqual([w.name, w.url, w.events, w.enabled], ['all', 'https://example.com/all', WEBHOOK_EVENTS, true]);
  assert.match(w.id, UUID);
  assertRecent(w.created_at);
  const off = (await hooks().createWebhook(app.id, { account_id: acc, name: 'off', url: 'https://example.com/off', events: ['meeting.ended'], enabled: false })).data;
  assert.equal(off.enabled, false);

  const list = await hooks().getWebhooks(app.id, { account_id: acc });
  shape(list, WEBHOOK_LIST);
  assert.equal(list.paging, undefined);
  list.data.forEach((x, i) => shape(x, WEBHOOK, `data[${i}]`));
  assert.deepEqual(list.data, [w, off]);
  const got = await hooks().getWebhookByID(w.id, ids);
  shape(got, WEBHOOK_ENVELOPE);
  assert.deepEqual(got.data, w);

  const replaced = await hooks().replaceWebhook(off.id, { ...ids, name: 'replaced', url: 'https://example.com/replaced', events: ['meeting.started'] });
  shape(replaced, WEBHOOK_ENVELOPE);
  assert.deepEqual([replaced.data.name, replaced.data.url, replaced.data.events, replaced.data.enabled], ['replaced', 'https://example.com/replaced', ['meeting.started'], true]);
  assert.equal(replaced.data.created_at, off.created_at);

  // The SDK's own example: an edit with nothing but the ids sends {} and changes nothing.
  const same = await hooks().editWebhook(off.id, ids);
  shape(same, WEBHOOK_ENVELOPE);
  assert.deepEqual(same.data, replaced.data);
  const edited = await hooks().editWebhook(off.id, { ...ids, enabled: false, name: 'edited' });
  shape(edited, WEBHOOK_ENVELOPE);
  assert.deepEqual([edited.data.name, edited.data.url, edited.data.events, edited.data.enabled], ['edited', 'https://example.com/replaced', ['meeting.started'], false]);

  const deleted = await hooks().deleteWebhook(w.id, ids);
  shape(deleted, WEBHOOK_ENVELOPE);
  assert.deepEqual(deleted.data, w);
  await rejectsWith(hooks().getWebhookByID(w.id, ids), Cloudflare.NotFoundError, 404, w.id);
  assert.deepEqual((await hooks().getWebhooks(app.id, { account_id: acc })).data.map((x) => x.id), [off.id]);
});

test('an unknown event or a URL that is not http(s) is a 400', async () => {
  await rejectsWith(
    hooks().createWebhook(app.id, { account_id: acc, name: 'x', url: 'https://example.com/x', events: ['meeting.exploded'] }),
    Cloudflare.BadRequestError,
    400,
    '"events[0]" is not a webhook event',
  );
  await rejectsWith(
    hooks().createWebhook(app.id, { account_id: acc, name: 'x', url: 'mailto:ops@example.com', events: ['meeting.started'] }),
    Cloudflare.BadRequestError,
    400,
    'must be an http or https URL',
  );
  await rejectsWith(hooks().createWebhook(app.id, { account_id: acc, name: 'x', url: 'https://example.com/x' }), Cloudflare.BadRequestError, 400, '"events" is required');
});

test('a second webhook with the same URL in the app is a 409', async () => {
  const client = rtk.client({ apiToken: rtk.apiToken, maxRetries: 0 }); // 409 is retried by default
  const url = `https://example.com/${unique('dup')}`;
  await client.realtimeKit.webhooks.createWebhook(app.id, { account_id: acc, name: 'a', url, events: ['meeting.started'] });
  await rejectsWith(
    client.realtimeKit.webhooks.createWebhook(app.id, { account_id: acc, name: 'b', url, events: ['meeting.ended'] }),
    Cloudflare.ConflictError,
    409,
    'already exists in this app',
  );
  const other = (await client.realtimeKit.webhooks.createWebhook(app.id, { account_id: acc, name: 'b', url: `${url}/2`, events: ['meeting.ended'] })).data;
  await rejectsWith(client.realtimeKit.webhooks.editWebhook(other.id, { ...ids, url }), Cloudflare.ConflictError, 409, 'already exists in this app');
});

// ---------------------------------------------------------------------------------------------
// Deliveries

test('a session delivers started, joined, joined, left, left, ended(ALL_PARTICIPANTS_LEFT) in order', async () => {
  const rx = await receiver();
  const w = (await hooks().createWebhook(app.id, { account_id: acc, name: 'rx', url: rx.url, events: SESSION_EVENTS })).data;
  const m = (await cf.realtimeKit.meetings.create(app.id, { account_id: acc, title: 'Hooked sync', session_keep_alive_time_in_secs: 1 })).data;
  const [ada, grace] = [await member(m, 'Ada'), await member(m, 'Grace')];
  const pa = await join(rtk, ada);
  const pb = await join(rtk, grace);
  await pa.leave();
  await pb.leave();
  const got = await rx.event('meeting.ended');
  assert.deepEqual(
    got.map((d) => d.json.event),
    ['meeting.started', 'meeting.participantJoined', 'meeting.participantJoined', 'meeting.participantLeft', 'meeting.participantLeft', 'meeting.ended'],
  );
  for (const d of got) checkDelivery(d, w.id);
  assert.equal(new Set(got.map((d) => d.headers['rtk-uuid'])).size, 6, 'one rtk-uuid per event');
  const bodies = got.map((d) => d.json);
  for (const b of bodies) {
    const mb = b.meeting;
    assert.deepEqual([mb.id, mb.sessionId, mb.title, mb.roomName, mb.status], [m.id, pa.sessionId, 'Hooked sync', m.id, 'LIVE']);
    assert.deepEqual(mb.organizedBy, { id: app.id, name: app.name });
    assert.match(mb.createdAt, ISO_MS_Z);
    assert.match(mb.startedAt, ISO_MS_Z);
  }
  assert.deepEqual(bodies.slice(1, 3).map((b) => b.participant.peerId), [pa.peerId, pb.peerId]);
  assert.deepEqual(bodies.slice(3, 5).map((b) => b.participant.peerId), [pa.peerId, pb.peerId]);
  assert.deepEqual(bodies.slice(1, 3).map((b) => b.participant.customParticipantId), [ada.custom_participant_id, grace.custom_participant_id]);
  for (const b of bodies.slice(1, 5)) assert.equal(b.participant.clientSpecificId, b.participant.customParticipantId);
  assert.deepEqual(bodies.slice(1, 3).map((b) => b.participant.userDisplayName), ['Ada', 'Grace']);
  const ended = bodies[5];
  assert.equal(ended.reason, 'ALL_PARTICIPANTS_LEFT');
  assert.equal(ended.meeting.endedAt, bodies[4].participant.leftAt, 'ended at the last leave');
  assert.ok(bodies.slice(0, 5).every((b) => !('endedAt' in b.meeting)));
  assert.deepEqual(bodies.map((b) => b.rtk.liveParticipants), [1, 1, 2, 1, 0, 0]);
  // The same session as the API reports it.
  const s = (await cf.realtimeKit.sessions.getSessionDetails(pa.sessionId, ids)).data;
  assert.equal(s.status, 'ENDED');
  assert.equal(Date.parse(ended.meeting.endedAt), Date.parse(s.ended_at));
  assert.equal(Date.parse(ended.meeting.startedAt), Date.parse(s.started_at));
  assert.equal(ended.rtk.maxConcurrentParticipants, s.max_concurrent_participants);
});

test('kick-all ends the session with HOST_ENDED_MEETING', async () => {
  const rx = await receiver();
  const w = (await hooks().createWebhook(app.id, { account_id: acc, name: 'rx', url: rx.url, events: ['meeting.participantLeft', 'meeting.ended'] })).data;
  const m = (await cf.realtimeKit.meetings.create(app.id, { account_id: acc, title: unique('kicked') })).data;
  const peers = [await join(rtk, await member(m, 'Ada')), await join(rtk, await member(m, 'Grace'))];
  await cf.realtimeKit.activeSession.kickAllParticipants(m.id, ids);
  await Promise.all(peers.map((p) => p.waitClosed()));
  const got = await rx.event('meeting.ended');
  assert.deepEqual(got.map((d) => d.json.event), ['meeting.participantLeft', 'meeting.participantLeft', 'meeting.ended']);
  for (const d of got) checkDelivery(d, w.id);
  assert.equal(got[2].json.reason, 'HOST_ENDED_MEETING');
  assert.deepEqual(new Set(got.slice(0, 2).map((d) => d.json.participant.peerId)), new Set(peers.map((p) => p.peerId)));
});

test('a 5xx is retried with the same rtk-uuid and body; a 400 is not', async () => {
  const flaky = await receiver([500, 502]);
  const refusing = await receiver([400]);
  const wf = (await hooks().createWebhook(app.id, { account_id: acc, name: 'flaky', url: flaky.url, events: ['meeting.started'] })).data;
  const wr = (await hooks().createWebhook(app.id, { account_id: acc, name: 'refusing', url: refusing.url, events: ['meeting.started', 'meeting.participantJoined'] })).data;
  const m = (await cf.realtimeKit.meetings.create(app.id, { account_id: acc, title: unique('retried') })).data;
  await join(rtk, await member(m, 'Ada'));
  const got = await flaky.count(3);
  assert.deepEqual(got.map((d) => d.status), [500, 502, 200]);
  assert.equal(new Set(got.map((d) => d.headers['rtk-uuid'])).size, 1);
  assert.equal(new Set(got.map((d) => d.body)).size, 1);
  for (const d of got) checkDelivery(d, wf.id);
  // The refusing receiver: started answered 400 and not retried, then joined (the next event
  // of the session) delivered.
  const r = await refusing.count(2);
  assert.deepEqual(r.map((d) => [d.json.event, d.status]), [['meeting.started', 400], ['meeting.participantJoined', 200]]);
  for (const d of r) checkDelivery(d, wr.id);
});
