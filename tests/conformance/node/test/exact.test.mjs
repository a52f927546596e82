// Exact values through the SDK on a manual clock (`--clock manual`): a recording paused 10 s of
// a 40 s interval has recording_duration 30; the session's end after its keep-alive stops a
// recording with ALL_PEERS_LEFT at that moment; analytics/daywise equals a brute-force count.
import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';

import { stopAll, wsJoin } from '../lib/peers.mjs';
import { presetDocument, startRtk, unique } from '../lib/rtk.mjs';

const ADMIN = 'node-conformance-admin';
let rtk, cf, acc;
before(async () => {
  rtk = await startRtk(['--clock', 'manual=2026-01-05T09:00:00Z', '--admin-token', ADMIN]);
  cf = rtk.client();
  acc = rtk.accountId;
});
after(() => rtk?.stop());
afterEach(() => stopAll());

async function advance(seconds) {
  const r = await fetch(`${rtk.origin}/_rtk/clock/advance`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ milliseconds: seconds * 1000 }),
  });
  assert.equal(r.status, 200, await r.text());
}

test('a pause is excluded, the keep-alive ends the recording, daywise adds up', async () => {
  const app = (await cf.realtimeKit.apps.post({ account_id: acc, name: unique('exact') })).data.app;
  await cf.realtimeKit.presets.create(app.id, { account_id: acc, ...presetDocument('host') });
  const ids = { account_id: acc, app_id: app.id };
  const meeting = (await cf.realtimeKit.meetings.create(app.id, { account_id: acc, title: 'Exact', session_keep_alive_time_in_secs: 60 })).data;
  const p = (await cf.realtimeKit.meetings.addParticipant(meeting.id, { ...ids, custom_participant_id: unique('ex'), preset_name: 'host', name: 'Ex' })).data;
  const peer = await wsJoin(rtk, p);
  const r = cf.realtimeKit.recordings;
  const rec = (await r.startRecordings(app.id, { account_id: acc, meeting_id: meeting.id })).data;
  await advance(10);
  await r.pauseResumeStopRecording(rec.id, { ...ids, action: 'pause' });
  await advance(10);
  await r.pauseResumeStopRecording(rec.id, { ...ids, action: 'resume' });
  await advance(20);
  await r.pauseResumeStopRecording(rec.id, { ...ids, action: 'stop' });
  const done = (await r.getOneRecording(rec.id, ids)).data;
  assert.equal(done.status, 'UPLOADED');
  assert.equal(done.recording_duration, 30);
  assert.equal(Date.parse(done.stopped_time) - Date.parse(done.started_time), 40_000);

  const rec2 = (await r.startRecordings(app.id, { account_id: acc, meeting_id: meeting.id })).data;
  await advance(5);
  await peer.leave();
  await advance(60);
  const d = (await r.getOneRecording(rec2.id, ids)).data;
  assert.deepEqual([d.status, d.stop_reason.reason, d.recording_duration], ['UPLOADED', 'ALL_PEERS_LEFT', 65]);

  const sessions = (await cf.realtimeKit.sessions.getSessions(app.id, { account_id: acc })).data.sessions;
  const a = (await cf.realtimeKit.analytics.getOrgAnalytics(app.id, { account_id: acc, start_date: '2026-01-05', end_date: '2026-01-05' })).data;
  assert.equal(a.session_stats.sessions_count, sessions.length);
  assert.equal(a.session_stats.sessions_minutes_consumed, sessions.reduce((t, s) => t + s.minutes_consumed, 0));
  assert.equal(a.recording_stats.recording_count, 2);
  assert.equal(a.recording_stats.recording_minutes_consumed, (30 + 65) / 60);
  assert.equal(a.recording_stats.day_stats[0].total_recording_minutes, 2);
});
