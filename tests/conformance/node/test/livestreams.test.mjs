// Livestreams: startLivestreamingAMeeting, getMeetingActiveLivestreams,
// getActiveLivestreamsForLivestreamID, stopLivestreamingAMeeting, getAllLivestreams (filters),
// getLivestreamSessionForLivestreamID, getLivestreamSessionDetailsForSessionID,
// getLivestreamAnalyticsComplete and getLivestreamAnalyticsDaywise, on a real ingest: ffmpeg
// publishes an H.264 + AAC test pattern to the ingest_server + stream_key the SDK returned,
// ffprobe reads playback_url, and a player's time accrues as viewer seconds.
//
// The server runs on the real clock, so durations are bounds (exact seconds are tested on the
// manual clock in crates/rtk-server/tests/it/livestreams.rs). Waiting for ffmpeg (an external
// process) is a poll of the API. Without ffmpeg the media test is skipped, unless CI is set.
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { after, afterEach, before, beforeEach, test } from 'node:test';

import { Cloudflare, assertRecent, rejectsWith, startRtk, unique } from '../lib/rtk.mjs';

const WAIT_MS = 30_000;

function haveFfmpeg() {
  const ok = (bin) => spawnSync(bin, ['-version'], { stdio: 'ignore' }).status === 0;
  if (ok('ffmpeg') && ok('ffprobe')) return true;
  if (process.env.CI || process.env.RTK_TEST_REQUIRE_FFMPEG) throw new Error('ffmpeg and ffprobe are required here (apt-get install ffmpeg)');
  return false;
}
const media = haveFfmpeg();

let rtk, cf, acc, app, ids, meeting;
const encoders = [];
before(async () => {
  rtk = await startRtk(['--rtmp-listen', '127.0.0.1:0']);
  cf = rtk.client();
  acc = rtk.accountId;
});
after(() => rtk?.stop());
beforeEach(async () => {
  app = (await cf.realtimeKit.apps.post({ account_id: acc, name: unique('app') })).data.app;
  ids = { account_id: acc, app_id: app.id };
  meeting = (await cf.realtimeKit.meetings.create(app.id, { account_id: acc, title: unique('Keynote') })).data;
});
afterEach(() => {
  for (const e of encoders.splice(0)) e.kill('SIGKILL');
});

const api = () => cf.realtimeKit.livestreams;

/** ffmpeg publishing a test pattern with a tone to `url` in real time; `exited` resolves to its status. */
function publish(url, secs = 120) {
  const child = spawn(
    'ffmpeg',
    ['-hide_banner', '-loglevel', 'error', '-re', '-f', 'lavfi', '-i', 'testsrc=size=160x120:rate=15', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100',
     '-c:v', 'libx264', '-preset', 'ultrafast', '-tune', 'zerolatency', '-g', '15', '-c:a', 'aac', '-b:a', '64k', '-t', String(secs), '-f', 'flv', url],
    { stdio: 'ignore' },
  );
  encoders.push(child);
  const exited = new Promise((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited };
}

/** Polls `fn` until it resolves to something truthy (a 404 counts as not yet). */
async function until(what, fn) {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    let got;
    try {
      got = await fn();
    } catch (e) {
      if (!(e instanceof Cloudflare.NotFoundError)) throw e;
    }
    if (got) return got;
    if (Date.now() > deadline) throw new Error(`${what}: not in ${WAIT_MS} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function livestream(x, { id, meetingId, status, disabled }) {
  assert.equal(x.id, id);
  assert.equal(x.meeting_id, meetingId);
  assert.equal(x.status, status);
  assert.equal(x.disabled, disabled, 'a string in these models');
  assert.match(x.ingest_server, /^rtmp:\/\/127\.0\.0\.1:\d+\/live\/$/);
  assert.ok(x.playback_url.startsWith('http://127.0.0.1:') && x.playback_url.includes(id), x.playback_url);
  assert.equal(typeof x.stream_key, 'string');
  assert.ok(Date.parse(x.updated_at) >= Date.parse(x.created_at));
}

test('a meeting livestream: ingest, playback, viewers, stop, sessions, list, analytics', { skip: !media && 'ffmpeg is not installed' }, async () => {
  await rejectsWith(api().getMeetingActiveLivestreams(meeting.id, ids), Cloudflare.NotFoundError, 404);
  const started = await api().startLivestreamingAMeeting(meeting.id, { ...ids, name: 'keynote', video_config: { width: 160, height: 120 } });
  assert.equal(started.success, true);
  const s = started.data;
  assert.equal(s.status, 'INVOKED');
  await rejectsWith(api().startLivestreamingAMeeting(meeting.id, { ...ids, name: 'again' }), Cloudflare.ConflictError, 409);

  const active = (await api().getMeetingActiveLivestreams(meeting.id, ids)).data;
  livestream(active, { id: s.id, meetingId: meeting.id, status: 'INVOKED', disabled: 'false' });
  assert.equal(active.name, 'keynote');
  assertRecent(active.created_at);

  const t0 = performance.now();
  const encoder = publish(s.ingest_server + s.stream_key);
  const live = await until('the ingest', async () => (await api().getActiveLivestreamsForLivestreamID(s.id, ids)).data);
  assert.equal(live.livestream.status, 'LIVE');
  assert.equal(live.session.livestream_id, s.id);
  assert.equal(typeof live.session.ingest_seconds, 'string');
  assert.equal(live.session.stopped_time, null);
  assertRecent(live.session.started_time);

  // A second publisher on the key is refused.
  assert.notEqual(await publish(s.ingest_server + s.stream_key, 3).exited, 0);

  const probe = execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_type,codec_name', '-of', 'csv=p=0', s.playback_url], {
    encoding: 'utf8',
    timeout: WAIT_MS,
  });
  assert.ok(probe.includes('h264,video') && probe.includes('aac,audio'), probe);

  // A player for about 2 s.
  const watchedFrom = performance.now();
  const ctl = new AbortController();
  const player = await fetch(s.playback_url, { signal: ctl.signal });
  assert.equal(player.status, 200);
  assert.equal(player.headers.get('content-type'), 'video/x-flv');
  const reader = player.body.getReader();
  const first = await reader.read();
  assert.equal(Buffer.from(first.value.subarray(0, 3)).toString('latin1'), 'FLV');
  while (performance.now() - watchedFrom < 2000) await reader.read();
  ctl.abort();
  const watched = (performance.now() - watchedFrom) / 1000;
  const viewer = await until('the player\'s time', async () => {
    const v = (await api().getActiveLivestreamsForLivestreamID(s.id, ids)).data.session;
    return v.viewer_seconds !== '0' && v;
  });
  assert.ok(Number(viewer.viewer_seconds) >= 2 && Number(viewer.viewer_seconds) <= watched + 3, `${viewer.viewer_seconds} vs ${watched}`);

  const stopped = await api().stopLivestreamingAMeeting(meeting.id, ids);
  assert.ok(stopped.data.message.includes(s.id), stopped.data.message);
  await encoder.exited;
  const bound = (performance.now() - t0) / 1000 + 1;
  await rejectsWith(api().getActiveLivestreamsForLivestreamID(s.id, ids), Cloudflare.NotFoundError, 404);
  await rejectsWith(api().stopLivestreamingAMeeting(meeting.id, ids), Cloudflare.NotFoundError, 404);

  const one = (await api().getLivestreamSessionForLivestreamID(s.id, { ...ids, page_no: 1, per_page: 10 })).data;
  livestream(one.livestream, { id: s.id, meetingId: meeting.id, status: 'IDLE', disabled: 'true' });
  assert.deepEqual(one.paging, { total_count: 1, start_offset: 1, end_offset: 1 });
  const done = one.session;
  assert.equal(done.id, live.session.id);
  assert.equal(typeof done.ingest_seconds, 'number');
  assert.ok(done.ingest_seconds >= 1 && done.ingest_seconds <= bound, `${done.ingest_seconds} vs ${bound}`);
  assert.equal(done.viewer_seconds, Number(viewer.viewer_seconds));
  const detail = (await api().getLivestreamSessionDetailsForSessionID(done.id, ids)).data;
  assert.equal(detail.livestream_id, s.id);
  assert.equal(detail.ingest_seconds, done.ingest_seconds);
  assert.equal(detail.viewer_seconds, done.viewer_seconds);

  const hour = 3600_000;
  const now = Date.now();
  const listed = (await api().getAllLivestreams(app.id, { account_id: acc })).data;
  assert.equal(listed.id, s.id);
  assert.equal(listed.paging.total_count, 1);
  const filtered = (
    await api().getAllLivestreams(app.id, {
      account_id: acc,
      status: 'IDLE',
      sort_order: 'ASC',
      start_time: new Date(now - hour).toISOString(),
      end_time: new Date(now + hour).toISOString(),
    })
  ).data;
  assert.equal(filtered.id, s.id);
  assert.equal((await api().getAllLivestreams(app.id, { account_id: acc, exclude_meetings: true })).data.paging.total_count, 0);

  const range = { account_id: acc, start_time: Math.floor((now - hour) / 1000), end_time: Math.floor((now + hour) / 1000) };
  const total = (await api().getLivestreamAnalyticsComplete(app.id, range)).data;
  assert.deepEqual(total, { count: 1, total_ingest_seconds: done.ingest_seconds, total_viewer_seconds: done.viewer_seconds });
  const days = (await api().getLivestreamAnalyticsDaywise(app.id, range)).data;
  assert.equal(days.reduce((n, d) => n + d.count, 0), 1);
  assert.equal(days.reduce((n, d) => n + d.total_ingest_seconds, 0), done.ingest_seconds);
  assert.ok(days.some((d) => d.date === new Date(now).toISOString().slice(0, 10)), JSON.stringify(days));
});

test('errors: unknown livestream, session and meeting; a bad filter', async () => {
  await rejectsWith(api().getLivestreamSessionForLivestreamID('nope', ids), Cloudflare.NotFoundError, 404, 'nope');
  await rejectsWith(api().getLivestreamSessionDetailsForSessionID('nope', ids), Cloudflare.NotFoundError, 404, 'nope');
  await rejectsWith(api().startLivestreamingAMeeting('no-such-meeting', ids), Cloudflare.NotFoundError, 404);
  await rejectsWith(api().getAllLivestreams(app.id, { account_id: acc, status: 'BOGUS' }), Cloudflare.BadRequestError, 400, 'status');
  const total = (await api().getLivestreamAnalyticsComplete(app.id, { account_id: acc })).data;
  assert.deepEqual(total, { count: 0, total_ingest_seconds: 0, total_viewer_seconds: 0 });
});
