// Analytics: getOrgAnalytics (day-wise sessions and recordings), with a session made by a real
// WebSocket peer (exact minutes across midnight are tested on the manual clock in
// crates/rtk-server/tests/it/analytics.rs).
import assert from 'node:assert/strict';
import { after, afterEach, before, test } from 'node:test';

import { stopAll, wsJoin } from '../lib/peers.mjs';
import { Cloudflare, presetDocument, rejectsWith, startRtk, unique } from '../lib/rtk.mjs';

let rtk, cf, acc;
before(async () => {
  rtk = await startRtk();
  cf = rtk.client();
  acc = rtk.accountId;
});
after(() => rtk?.stop());
afterEach(() => stopAll());

const isoDay = (d) => d.toISOString().slice(0, 10);

test('day-wise counts of what happened', async () => {
  const app = (await cf.realtimeKit.apps.post({ account_id: acc, name: unique('app') })).data.app;
  await cf.realtimeKit.presets.create(app.id, { account_id: acc, ...presetDocument('host') });
  const ids = { account_id: acc, app_id: app.id };
  const meeting = (await cf.realtimeKit.meetings.create(app.id, { account_id: acc, title: 'Stats' })).data;
  const p = (await cf.realtimeKit.meetings.addParticipant(meeting.id, { ...ids, custom_participant_id: unique('an'), preset_name: 'host', name: 'Ana' })).data;
  await wsJoin(rtk, p);
  await cf.realtimeKit.recordings.startRecordings(app.id, { account_id: acc, meeting_id: meeting.id });
  const today = new Date();
  const first = new Date(today.getTime() - 2 * 86_400_000);
  const r = await cf.realtimeKit.analytics.getOrgAnalytics(app.id, { account_id: acc, start_date: isoDay(first), end_date: isoDay(today) });
  assert.equal(r.success, true);
  const { session_stats: ss, recording_stats: rs } = r.data;
  assert.deepEqual(ss.day_stats.map((d) => d.day), [0, 1, 2].map((k) => isoDay(new Date(first.getTime() + k * 86_400_000))));
  assert.deepEqual(ss.day_stats.map((d) => d.total_sessions), [0, 0, 1]);
  assert.equal(ss.sessions_count, 1);
  assert.equal(ss.sessions_minutes_consumed, 0);
  assert.deepEqual(rs.day_stats.map((d) => d.total_recordings), [0, 0, 1]);
  assert.ok(rs.day_stats.every((d) => Number.isInteger(d.total_recording_minutes)));
  // The SDK models the same endpoint again under livestreams.
  const again = await cf.realtimeKit.livestreams.getOrgAnalytics(app.id, { account_id: acc, start_date: isoDay(first), end_date: isoDay(today) });
  assert.deepEqual(again.data, r.data);
  await rejectsWith(cf.realtimeKit.analytics.getOrgAnalytics(app.id, { account_id: acc, end_date: 'soon' }), Cloudflare.BadRequestError, 400, 'end_date');
});
