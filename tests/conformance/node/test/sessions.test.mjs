// Sessions and the active session: getSessions, getSessionDetails (includeBreakoutRooms),
// getSessionParticipants (view, sort_by, include_peer_events, paging),
// getSessionParticipantDetails, getParticipantDataFromPeerID, getSessionChat; getActiveSession,
// kickParticipants, kickAllParticipants, createPoll.
//
// Sessions exist only because participants joined through the gateway: the tests join real
// peers (`rtk join`, or a WebSocket client for chat). The server runs on the real clock, so
// times and minutes are checked as relations and bounds.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, afterEach, before, beforeEach, test } from 'node:test';

import { join, stopAll, wsJoin } from '../lib/peers.mjs';
import { Cloudflare, assertRecent, presetDocument, rejectsWith, shape, startRtk, unique } from '../lib/rtk.mjs';
import {
  CHAT,
  KICKED,
  POLL,
  POLL_OPTION,
  SESSION,
  SESSION_ENVELOPE,
  SESSION_LIST,
  SESSION_PARTICIPANT,
  SESSION_PARTICIPANTS,
} from '../lib/shapes.mjs';

const DEVICE = { os: 'Linux', os_version: '6.1', cpus: 8, is_mobile: false, browser: 'Firefox', browser_version: '128.0', engine: 'Gecko', webgl_support: true };
const MS = 2; // slack on duration bounds: the server keeps milliseconds

let rtk, cf, acc, app, meeting, ids;
before(async () => {
  rtk = await startRtk();
  cf = rtk.client();
  acc = rtk.accountId;
});
after(() => rtk?.stop());
// Every test: a fresh app with preset `host`, and a meeting.
beforeEach(async () => {
  app = (await cf.realtimeKit.apps.post({ account_id: acc, name: unique('app') })).data.app;
  await cf.realtimeKit.presets.create(app.id, { account_id: acc, ...presetDocument('host') });
  meeting = (await cf.realtimeKit.meetings.create(app.id, { account_id: acc, title: unique('meeting') })).data;
  ids = { account_id: acc, app_id: app.id };
});
afterEach(stopAll);

const member = async (name, m = meeting) =>
  (await cf.realtimeKit.meetings.addParticipant(m.id, { ...ids, custom_participant_id: unique(name.toLowerCase()), preset_name: 'host', name })).data;

/** getSessionDetails: the session flat under data (TS, 5.9.0), and the same as data.session (5.0.0). */
async function details(sessionId, params = {}) {
  const resp = await cf.realtimeKit.sessions.getSessionDetails(sessionId, { ...ids, ...params });
  shape(resp, SESSION_ENVELOPE);
  const { session, ...flat } = resp.data;
  assert.deepEqual(flat, session, 'the flat and the nested session differ');
  assert.equal(flat.id, sessionId);
  return flat;
}

async function active(m = meeting) {
  const resp = await cf.realtimeKit.activeSession.getActiveSession(m.id, ids);
  shape(resp, SESSION_ENVELOPE);
  return resp.data;
}

async function participants(sessionId, params = {}) {
  const resp = await cf.realtimeKit.sessions.getSessionParticipants(sessionId, { ...ids, ...params });
  shape(resp, SESSION_PARTICIPANTS);
  return resp.data.participants;
}

const noActiveSession = (promise, m = meeting) =>
  rejectsWith(promise, Cloudflare.NotFoundError, 404, `No active session found for meeting_id ${m.id}`);

test('two peers make one live session', async () => {
  const ada = await member('Ada');
  const grace = await member('Grace');
  const pa = await join(rtk, ada);
  const pg = await join(rtk, grace);
  assert.deepEqual([pa.meetingId, pg.meetingId, pg.sessionId, pa.peers, pg.peers], [meeting.id, meeting.id, pa.sessionId, 0, 1]);

  const s = await active();
  assert.deepEqual(
    [s.id, s.associated_id, s.meeting_display_name, s.organization_id, s.type, s.status, s.live_participants, s.max_concurrent_participants],
    [pa.sessionId, meeting.id, meeting.title, app.id, 'meeting', 'LIVE', 2, 2],
  );
  assert.ok(s.minutes_consumed > 0);
  assertRecent(s.started_at);
  assert.equal(s.created_at, s.started_at);
  assert.ok(Date.parse(s.updated_at) >= Date.parse(s.started_at));
  assert.equal(s.ended_at, undefined);
  assert.deepEqual(s.breakout_rooms, []);

  const d = await details(pa.sessionId);
  assert.deepEqual([d.status, d.live_participants, d.max_concurrent_participants, d.started_at], ['LIVE', 2, 2, s.started_at]);
  assert.ok(d.minutes_consumed >= s.minutes_consumed);

  const listed = await cf.realtimeKit.sessions.getSessions(app.id, { account_id: acc, associated_id: meeting.id });
  shape(listed, SESSION_LIST);
  for (const x of listed.data.sessions) shape(x, SESSION, 'session');
  assert.deepEqual(listed.data.sessions.map((x) => [x.id, x.status, x.live_participants]), [[pa.sessionId, 'LIVE', 2]]);
  assert.deepEqual(listed.paging, { total_count: 1, start_offset: 1, end_offset: 1 });
});

test('getSessions filters by meeting and status, and pages', async () => {
  const other = (await cf.realtimeKit.meetings.create(app.id, { account_id: acc, title: unique('elsewhere') })).data;
  const ada = await member('Ada');
  const first = await join(rtk, ada);
  await cf.realtimeKit.activeSession.kickAllParticipants(meeting.id, ids);
  await first.waitClosed();
  const second = await join(rtk, ada);
  await join(rtk, await member('Grace'));
  const elsewhere = await join(rtk, await member('Linus', other));
  const [s1, s2, s3] = [first.sessionId, second.sessionId, elsewhere.sessionId];
  assert.notEqual(s1, s2);

  const list = async (params) => {
    const resp = await cf.realtimeKit.sessions.getSessions(app.id, { account_id: acc, ...params });
    shape(resp, SESSION_LIST);
    for (const x of resp.data.sessions) shape(x, SESSION, 'session');
    return { got: resp.data.sessions.map((x) => x.id), paging: resp.paging, sessions: resp.data.sessions };
  };
  let r = await list({ associated_id: meeting.id });
  assert.deepEqual(r.got, [s2, s1]);
  assert.deepEqual(r.paging, { total_count: 2, start_offset: 1, end_offset: 2 });
  assert.deepEqual(r.sessions.map((x) => [x.status, x.max_concurrent_participants]), [['LIVE', 2], ['ENDED', 1]]);
  assert.deepEqual((await list({ associated_id: meeting.id, status: 'ENDED' })).got, [s1]);
  assert.deepEqual((await list({ associated_id: meeting.id, sort_order: 'ASC' })).got, [s1, s2]);
  r = await list({ associated_id: meeting.id, page_no: 2, per_page: 1 });
  assert.deepEqual([r.got, r.paging], [[s1], { total_count: 2, start_offset: 2, end_offset: 2 }]);
  assert.deepEqual((await list({})).got, [s3, s2, s1]);
  assert.deepEqual((await list({ search: other.title })).got, [s3]);
  assert.deepEqual((await list({ associated_id: meeting.id, participants: '2:' })).got, [s2]);
  const byMinutes = (await list({ sort_by: 'minutesConsumed' })).sessions.map((x) => x.minutes_consumed);
  assert.deepEqual(byMinutes, [...byMinutes].sort((a, b) => b - a));
  const since = (await list({ associated_id: meeting.id })).sessions.find((x) => x.id === s2).started_at;
  assert.deepEqual((await list({ associated_id: meeting.id, start_time: since })).got, [s2]);
});

test('getSessionParticipants: raw peers, paging, sorting, peer events', async () => {
  const ada = await member('Ada');
  const grace = await member('Grace');
  const pa = await join(rtk, ada);
  await sleep(50);
  const pg = await join(rtk, grace);
  const sid = pa.sessionId;

  const rows = await participants(sid);
  assert.deepEqual(rows.map((r) => r.id), [pa.peerId, pg.peerId]);
  assert.deepEqual(
    rows.map((r) => [r.user_id, r.custom_participant_id, r.display_name, r.preset_name, r.left_at ?? null, r.peer_events]),
    [
      [ada.id, ada.custom_participant_id, 'Ada', 'host', null, undefined],
      [grace.id, grace.custom_participant_id, 'Grace', 'host', null, undefined],
    ],
  );
  for (const r of rows) {
    assert.ok(r.duration > 0);
    assertRecent(r.joined_at);
  }

  const page = await cf.realtimeKit.sessions.getSessionParticipants(sid, { ...ids, page_no: 2, per_page: 1 });
  assert.deepEqual(page.data.participants.map((r) => r.id), [pg.peerId]);
  assert.deepEqual(page.paging, { total_count: 2, start_offset: 2, end_offset: 2 });
  assert.deepEqual((await participants(sid, { sort_by: 'joinedAt', sort_order: 'DESC' })).map((r) => r.id), [pg.peerId, pa.peerId]);
  assert.deepEqual((await participants(sid, { sort_by: 'duration', sort_order: 'DESC' })).map((r) => r.id), [pa.peerId, pg.peerId]);
  assert.deepEqual((await participants(sid, { search: 'grace' })).map((r) => r.id), [pg.peerId]);

  const withEvents = await participants(sid, { include_peer_events: true });
  assert.deepEqual(
    withEvents.map((r) => r.peer_events.map((e) => [e.event_name, e.peer_id, e.session_id])),
    [[['PEER_JOINING', pa.peerId, sid]], [['PEER_JOINING', pg.peerId, sid]]],
  );
});

test('consolidated view: one row per participant, their peers added up', async () => {
  const ada = await member('Ada');
  const first = await join(rtk, ada);
  await first.leave();
  const second = await join(rtk, ada); // within the keep-alive: the same session
  assert.equal(second.sessionId, first.sessionId);
  const pg = await join(rtk, await member('Grace'));
  const sid = first.sessionId;
  await cf.realtimeKit.activeSession.kickAllParticipants(meeting.id, ids);
  await second.waitClosed();

  const raw = await participants(sid, { view: 'raw' });
  assert.deepEqual(raw.map((r) => r.id), [first.peerId, second.peerId, pg.peerId]);
  const rows = await participants(sid, { view: 'consolidated', include_peer_events: true });
  assert.deepEqual(rows.map((r) => r.user_id), [ada.id, raw[2].user_id]);
  assert.ok(Math.abs(rows[0].duration - (raw[0].duration + raw[1].duration)) < 1e-9);
  assert.deepEqual([rows[0].joined_at, rows[0].left_at], [raw[0].joined_at, raw[1].left_at]);
  assert.deepEqual(rows[0].peer_events.map((e) => e.event_name), ['PEER_JOINING', 'PEER_LEAVING', 'PEER_JOINING', 'PEER_LEAVING']);
  const d = await details(sid);
  assert.ok(Math.abs(d.minutes_consumed - raw.reduce((a, r) => a + r.duration, 0)) < 1e-9);
});

test('getSessionParticipantDetails and getParticipantDataFromPeerID', async () => {
  const ada = await member('Ada');
  const pa = await join(rtk, ada, { device: DEVICE });
  const sid = pa.sessionId;

  const resp = await cf.realtimeKit.sessions.getSessionParticipantDetails(pa.peerId, { ...ids, session_id: sid, include_peer_events: true });
  shape(resp, SESSION_PARTICIPANT);
  const p = resp.data.participant;
  assert.deepEqual(
    [p.id, p.user_id, p.custom_participant_id, p.display_name, p.preset_name, p.left_at ?? null],
    [pa.peerId, ada.id, ada.custom_participant_id, 'Ada', 'host', null],
  );
  assert.deepEqual(p.peer_events.map((e) => [e.event_name, e.peer_id]), [['PEER_JOINING', pa.peerId]]);
  const byParticipant = await cf.realtimeKit.sessions.getSessionParticipantDetails(ada.id, { ...ids, session_id: sid });
  assert.equal(byParticipant.data.participant.id, pa.peerId);
  const missing = unique('nobody');
  await rejectsWith(
    cf.realtimeKit.sessions.getSessionParticipantDetails(missing, { ...ids, session_id: sid }),
    Cloudflare.NotFoundError,
    404,
    `No participant found with id ${missing} in session ${sid}`,
  );

  const report = await cf.realtimeKit.sessions.getParticipantDataFromPeerID(pa.peerId, { ...ids, filters: 'device_info', include_peer_events: true });
  shape(report, SESSION_PARTICIPANT);
  const r = report.data.participant;
  assert.deepEqual([r.id, r.user_id, r.display_name, r.role, r.session_id], [pa.peerId, ada.id, 'Ada', 'host', sid]);
  assert.deepEqual(r.peer_events.map((e) => e.event_name), ['PEER_JOINING']);
  assert.deepEqual(r.peer_report.metadata.device_info, { os: 'Linux', os_version: '6.1', cpus: 8, is_mobile: false });
  assert.deepEqual(r.peer_report.metadata.browser_metadata, { browser: 'Firefox', browser_version: '128.0', engine: 'Gecko' });
  const noPeer = unique('no-peer');
  await rejectsWith(cf.realtimeKit.sessions.getParticipantDataFromPeerID(noPeer, ids), Cloudflare.NotFoundError, 404, `No peer found with id ${noPeer}`);
});

async function readExport(url) {
  const r = await fetch(url);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/csv/);
  return r.text();
}

test('getSessionChat: an empty CSV, then what a peer said', async () => {
  const ada = await member('Ada');
  const talker = await wsJoin(rtk, ada);
  const listener = await join(rtk, await member('Grace'));
  const sid = talker.sessionId;
  assert.equal(listener.sessionId, sid);

  const before = Date.now();
  const empty = await cf.realtimeKit.sessions.getSessionChat(sid, ids);
  shape(empty, CHAT);
  const expiry = Date.parse(empty.data.chat_download_url_expiry);
  assert.ok(expiry > before + 59 * 60_000 && expiry < before + 61 * 60_000, empty.data.chat_download_url_expiry);
  assert.equal(await readExport(empty.data.chat_download_url), 'id,sent_at,peer_id,participant_id,display_name,message\n');

  const sent = await talker.chat('hello, "world"');
  assert.equal((await listener.waitFor('chat')).message, 'hello, "world"');
  const csv = await readExport((await cf.realtimeKit.sessions.getSessionChat(sid, ids)).data.chat_download_url);
  assert.equal(
    csv,
    `id,sent_at,peer_id,participant_id,display_name,message\n${sent.id},${sent.sent_at},${talker.peerId},${ada.id},Ada,"hello, ""world"""\n`,
  );
});

test('kickParticipants by id and by custom id (each list alone)', async () => {
  const [ada, grace, linus] = [await member('Ada'), await member('Grace'), await member('Linus')];
  const [pa, pg, pl] = [await join(rtk, ada), await join(rtk, grace), await join(rtk, linus)];

  const resp = await cf.realtimeKit.activeSession.kickParticipants(meeting.id, { ...ids, participant_ids: [ada.id] });
  assert.equal(resp.success, true);
  assert.equal(resp.data.action, 'kick');
  for (const k of resp.data.participants) shape(k, KICKED, 'kicked');
  assert.deepEqual(resp.data.participants.map((k) => [k.id, k.name]), [[ada.id, 'Ada']]);
  assert.equal((await pa.waitFor('kicked')).reason, 'kick');
  assert.equal((await pa.waitClosed()).code, 4005);
  let s = await active();
  assert.deepEqual([s.status, s.live_participants, s.max_concurrent_participants], ['LIVE', 2, 3]);

  const byCustom = await cf.realtimeKit.activeSession.kickParticipants(meeting.id, { ...ids, custom_participant_ids: [linus.custom_participant_id] });
  assert.deepEqual(byCustom.data.participants.map((k) => k.id), [linus.id]);
  await pl.waitClosed();
  s = await active();
  assert.deepEqual([s.live_participants, s.max_concurrent_participants], [1, 3]);
  assert.ok(pg.running);

  const missing = unique('nobody');
  await rejectsWith(cf.realtimeKit.activeSession.kickParticipants(meeting.id, { ...ids, participant_ids: [missing] }), Cloudflare.NotFoundError, 404, `No user found with id ${missing}`);
  await rejectsWith(cf.realtimeKit.activeSession.kickParticipants(meeting.id, ids), Cloudflare.BadRequestError, 400, '"participant_ids" or "custom_participant_ids"');
});

test('kickAllParticipants ends the session at once', async () => {
  const pa = await join(rtk, await member('Ada'));
  const pg = await join(rtk, await member('Grace'));
  const sid = pa.sessionId;
  await sleep(200);
  const sent = performance.now();
  const resp = await cf.realtimeKit.activeSession.kickAllParticipants(meeting.id, ids);
  const done = performance.now();
  assert.deepEqual([resp.success, resp.data.action, resp.data.kicked_participants_count], [true, 'kick-all', 2]);
  for (const peer of [pa, pg]) {
    assert.equal((await peer.waitFor('session_ended')).session_id, sid);
    assert.equal((await peer.waitClosed()).code, 4005);
  }

  // ENDED now, although the meeting keeps an empty session alive for 60 s.
  const d = await details(sid);
  assert.deepEqual([d.status, d.live_participants, d.max_concurrent_participants], ['ENDED', 0, 2]);
  const rows = await participants(sid);
  assert.deepEqual(rows.map((r) => r.left_at), [d.ended_at, d.ended_at]);
  for (const [r, peer] of [[rows[0], pa], [rows[1], pg]]) {
    const ms = r.duration * 60_000;
    assert.ok(ms >= sent - peer.joinedAt - MS && ms <= done - peer.startedAt + MS, `${ms} ms`);
  }
  assert.ok(Math.abs(d.minutes_consumed - (rows[0].duration + rows[1].duration)) < 1e-9);

  await noActiveSession(cf.realtimeKit.activeSession.getActiveSession(meeting.id, ids));
  await noActiveSession(cf.realtimeKit.activeSession.kickAllParticipants(meeting.id, ids));
  await noActiveSession(cf.realtimeKit.activeSession.createPoll(meeting.id, { ...ids, question: 'Still there?', options: ['y', 'n'] }));
});

test('createPoll reaches every peer', async () => {
  const peers = [await join(rtk, await member('Ada')), await join(rtk, await member('Grace'))];
  const resp = await cf.realtimeKit.activeSession.createPoll(meeting.id, { ...ids, question: 'Ship it?', options: ['yes', 'no'], anonymous: true, hide_votes: false });
  assert.deepEqual([resp.success, resp.data.action], [true, 'poll']);
  const poll = resp.data.poll;
  shape(poll, POLL, 'poll');
  for (const o of poll.options) shape(o, POLL_OPTION, 'option');
  assert.deepEqual([poll.question, poll.anonymous, poll.hide_votes], ['Ship it?', true, false]);
  assert.deepEqual(poll.options.map((o) => [o.text, o.count, o.votes]), [['yes', 0, []], ['no', 0, []]]);
  for (const peer of peers) assert.equal((await peer.waitFor('poll_created')).poll.id, poll.id);
  await rejectsWith(
    cf.realtimeKit.activeSession.createPoll(meeting.id, { ...ids, question: 'Only?', options: ['one'] }),
    Cloudflare.BadRequestError,
    400,
    '"options" must list 2 to 50 choices',
  );
});

test('includeBreakoutRooms lists the rooms sessions', async () => {
  const ada = await member('Ada');
  const grace = await member('Grace');
  const pa = await join(rtk, ada);
  const pg = await join(rtk, grace);
  const base = `/accounts/${acc}/realtime/kit/${app.id}/meetings/${meeting.id}/active-session/breakout-rooms`;
  // rtk's own endpoints (the SDKs have none), through the SDK's generic request methods.
  const room = (await cf.post(base, { body: { rooms: [{ title: 'Room 1' }] } })).data.breakout_rooms[0];
  await cf.post(`${base}/move`, { body: { to_meeting_id: room.id, participant_ids: [grace.id] } });
  const moved = await pg.waitFor('moved');

  assert.equal((await details(pa.sessionId)).breakout_rooms, undefined);
  const d = await details(pa.sessionId, { include_breakout_rooms: true });
  for (const r of d.breakout_rooms) shape(r, SESSION, 'breakout room');
  assert.deepEqual(d.breakout_rooms.map((r) => [r.id, r.associated_id, r.status, r.live_participants]), [[moved.session_id, room.id, 'LIVE', 1]]);
  const rows = await participants(pa.sessionId, { view: 'consolidated' });
  assert.deepEqual(rows.map((r) => [r.user_id, r.left_at ?? null]), [[ada.id, null], [grace.id, null]]);
});

test('unknown sessions, and sessions of other apps, are not found', async () => {
  const pa = await join(rtk, await member('Ada'));
  const missing = unique('no-session');
  for (const call of [
    () => cf.realtimeKit.sessions.getSessionDetails(missing, ids),
    () => cf.realtimeKit.sessions.getSessionParticipants(missing, ids),
    () => cf.realtimeKit.sessions.getSessionChat(missing, ids),
  ]) {
    await rejectsWith(call(), Cloudflare.NotFoundError, 404, `No session found with id ${missing}`);
  }
  const other = (await cf.realtimeKit.apps.post({ account_id: acc, name: unique('other') })).data.app;
  await rejectsWith(
    cf.realtimeKit.sessions.getSessionDetails(pa.sessionId, { account_id: acc, app_id: other.id }),
    Cloudflare.NotFoundError,
    404,
    `No session found with id ${pa.sessionId}`,
  );
  const none = await cf.realtimeKit.sessions.getSessions(other.id, { account_id: acc });
  assert.deepEqual([none.data.sessions, none.paging.total_count], [[], 0]);
  const quiet = (await cf.realtimeKit.meetings.create(app.id, { account_id: acc, title: 'quiet' })).data;
  await noActiveSession(cf.realtimeKit.activeSession.getActiveSession(quiet.id, ids), quiet);
});
