// Recordings: startRecordings, getActiveRecordings, getOneRecording, getRecordings (filters,
// paging), pauseResumeStopRecording, startTrackRecording, and the file behind download_url
// (JSON and WebVTT), with a session made by a real WebSocket peer.
//
// The server runs on the real clock: durations are checked as bounds (exact ones are tested on
// the manual clock in crates/rtk-server/tests/it/recordings.rs).
import assert from 'node:assert/strict';
import { after, afterEach, before, beforeEach, test } from 'node:test';

import { stopAll, wsJoin } from '../lib/peers.mjs';
import { Cloudflare, PAGING, assertRecent, presetDocument, rejectsWith, shape, startRtk, unique } from '../lib/rtk.mjs';
import { RECORDING, RECORDING_ENVELOPE, RECORDING_LIST, RECORDING_NULLABLE } from '../lib/shapes.mjs';

let rtk, cf, acc, app, ids, meeting;
before(async () => {
  rtk = await startRtk();
  cf = rtk.client();
  acc = rtk.accountId;
});
after(() => rtk?.stop());
beforeEach(async () => {
  app = (await cf.realtimeKit.apps.post({ account_id: acc, name: unique('app') })).data.app;
  await cf.realtimeKit.presets.create(app.id, { account_id: acc, ...presetDocument('host') });
  ids = { account_id: acc, app_id: app.id };
  meeting = (await cf.realtimeKit.meetings.create(app.id, { account_id: acc, title: unique('Standup') })).data;
});
afterEach(() => stopAll());

const recs = () => cf.realtimeKit.recordings;

function recording(r, where) {
  shape(r, RECORDING, where);
  for (const k of RECORDING_NULLABLE) assert.ok(k in r, `${where}.${k} must be present (it may be null)`);
}

async function live(name = 'Grace') {
  const p = (
    await cf.realtimeKit.meetings.addParticipant(meeting.id, { ...ids, custom_participant_id: unique('rec'), preset_name: 'host', name })
  ).data;
  return wsJoin(rtk, p);
}

test('start, pause, resume, stop, and the file behind the link', async () => {
  await rejectsWith(recs().startRecordings(app.id, { account_id: acc, meeting_id: meeting.id }), Cloudflare.ConflictError, 409, 'no live session');
  const peer = await live();
  const started = await recs().startRecordings(app.id, {
    account_id: acc,
    meeting_id: meeting.id,
    file_name_prefix: 'standup',
    video_config: { codec: 'VP8', width: 640, height: 360 },
  });
  shape(started, RECORDING_ENVELOPE);
  const rec = started.data;
  recording(rec, 'start');
  assert.equal(rec.status, 'INVOKED');
  assert.equal(rec.session_id, peer.sessionId);
  assertRecent(rec.invoked_time);
  assert.equal(rec.output_file_name, `standup_${rec.id}.json`);
  assert.deepEqual(rec.start_reason, { caller: { type: 'ORGANIZATION' }, reason: 'API_CALL' });

  const one = await recs().getOneRecording(rec.id, ids);
  recording(one.data, 'get');
  assert.equal(one.data.status, 'RECORDING');
  const active = await recs().getActiveRecordings(meeting.id, ids);
  recording(active.data, 'active');
  assert.equal(active.data.id, rec.id);
  await rejectsWith(recs().startRecordings(app.id, { account_id: acc, meeting_id: meeting.id }), Cloudflare.ConflictError, 409, 'Recording already in progress');
  await rejectsWith(recs().pauseResumeStopRecording(rec.id, { ...ids, action: 'resume' }), Cloudflare.ConflictError, 409, 'it is RECORDING');

  await peer.chat('hello from node');
  assert.equal((await recs().pauseResumeStopRecording(rec.id, { ...ids, action: 'pause' })).data.status, 'PAUSED');
  assert.equal((await recs().pauseResumeStopRecording(rec.id, { ...ids, action: 'resume' })).data.status, 'RECORDING');
  const stopped = await recs().pauseResumeStopRecording(rec.id, { ...ids, action: 'stop' });
  recording(stopped.data, 'stop');
  assert.equal(stopped.data.status, 'UPLOADING');
  assert.equal(stopped.data.stop_reason.reason, 'API_CALL');

  const done = (await recs().getOneRecording(rec.id, ids)).data;
  recording(done, 'done');
  assert.equal(done.status, 'UPLOADED');
  assert.ok(done.recording_duration >= 0 && done.recording_duration < 60, `${done.recording_duration}`);
  // Retention: 7 days from when the file was stored, right after the stop.
  const kept = Date.parse(done.download_url_expiry) - Date.parse(done.stopped_time);
  assert.ok(kept >= 7 * 86_400_000 && kept < 7 * 86_400_000 + 60_000, `${kept}`);
  const file = await fetch(done.download_url);
  assert.equal(file.status, 200);
  const bytes = Buffer.from(await file.arrayBuffer());
  assert.equal(done.file_size, bytes.length);
  const doc = JSON.parse(bytes.toString('utf8'));
  assert.equal(doc.format, 'rtk-recording/1');
  const chat = doc.events.find((e) => e.type === 'chat');
  assert.equal(chat.message, 'hello from node');
  assert.equal(chat.peer_id, peer.peerId);
  const vtt = await (await fetch(`${done.download_url}.vtt`)).text();
  assert.match(vtt, /^WEBVTT/);
  assert.match(vtt, /\d{2}:\d{2}:\d{2}\.\d{3} --> \d{2}:\d{2}:\d{2}\.\d{3}\nGrace: hello from node\n/);
  await rejectsWith(recs().getActiveRecordings(meeting.id, ids), Cloudflare.NotFoundError, 404, 'No active recording');

  // The session's meta lists it.
  const details = await cf.realtimeKit.sessions.getSessionDetails(peer.sessionId, ids);
  assert.deepEqual(details.data.meta.recordings.map((r) => [r.id, r.status]), [[rec.id, 'UPLOADED']]);
});

test('the list: newest first, filters, paging, the meeting of each', async () => {
  await live();
  const made = [];
  for (let i = 0; i < 3; i++) {
    made.push((await recs().startRecordings(app.id, { account_id: acc, meeting_id: meeting.id, allow_multiple_recordings: true })).data);
  }
  await recs().pauseResumeStopRecording(made[0].id, { ...ids, action: 'stop' });
  await recs().pauseResumeStopRecording(made[1].id, { ...ids, action: 'pause' });
  const all = await recs().getRecordings(app.id, { account_id: acc });
  shape(all, RECORDING_LIST);
  shape(all.paging, PAGING);
  all.data.forEach((r, i) => recording(r, `list[${i}]`));
  assert.deepEqual(all.data.map((r) => r.id), made.map((r) => r.id).reverse());
  assert.deepEqual(all.paging, { total_count: 3, start_offset: 1, end_offset: 3 });
  assert.equal(all.data[0].meeting.id, meeting.id);
  assert.equal(all.data[0].meeting.title, meeting.title);
  const page = await recs().getRecordings(app.id, { account_id: acc, sort_by: 'invokedTime', sort_order: 'ASC', per_page: 2, page_no: 2 });
  assert.deepEqual(page.data.map((r) => r.id), [made[2].id]);
  const some = await recs().getRecordings(app.id, { account_id: acc, status: ['UPLOADED', 'PAUSED'], sort_order: 'ASC' });
  assert.deepEqual(some.data.map((r) => r.id), [made[0].id, made[1].id]);
  const running = await recs().getRecordings(app.id, { account_id: acc, meeting_id: meeting.id, status: ['RECORDING'] });
  assert.deepEqual(running.data.map((r) => r.id), [made[2].id]);
  assert.equal((await recs().getRecordings(app.id, { account_id: acc, search: meeting.title.toLowerCase() })).paging.total_count, 3);
  assert.equal((await recs().getRecordings(app.id, { account_id: acc, expired: true })).paging.total_count, 0);
  await rejectsWith(recs().getRecordings(app.id, { account_id: acc, status: ['DONE'] }), Cloudflare.BadRequestError, 400, 'status');
});

test('errors: unknown ids, a bad max_seconds', async () => {
  await rejectsWith(recs().getOneRecording('no-such-recording', ids), Cloudflare.NotFoundError, 404, 'No recording found');
  await rejectsWith(recs().pauseResumeStopRecording('no-such-recording', { ...ids, action: 'stop' }), Cloudflare.NotFoundError, 404);
  await rejectsWith(recs().startRecordings(app.id, { account_id: acc, meeting_id: 'no-such-meeting' }), Cloudflare.NotFoundError, 404, 'No meeting found');
  await live();
  await rejectsWith(recs().startRecordings(app.id, { account_id: acc, meeting_id: meeting.id, max_seconds: 5 }), Cloudflare.BadRequestError, 400, 'max_seconds');
});

test('a track recording', async () => {
  const peer = await live();
  const out = await recs().startTrackRecording(app.id, {
    account_id: acc,
    meeting_id: meeting.id,
    layers: { default: { file_name_prefix: 'tracks', media_kind: 'audio' } },
  });
  assert.equal(out.success, true);
  recording(out.data.recording, 'track');
  assert.equal(out.data.recording.session_id, peer.sessionId);
  assert.ok(out.data.recording.output_file_name.startsWith('tracks_'));
  const listed = await recs().getRecordings(app.id, { account_id: acc });
  assert.deepEqual(listed.data.map((r) => r.id), [out.data.recording.id]);
});
