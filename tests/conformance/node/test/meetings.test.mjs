// Meetings: create, get (list), getMeetingByID, updateMeetingByID (PATCH), replaceMeetingByID (PUT).
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';

import { Cloudflare, assertRecent, rejectsWith, shape, startRtk, unique } from '../lib/rtk.mjs';
import { MEETING, MEETING_ENVELOPE, MEETING_LIST } from '../lib/shapes.mjs';

let rtk, cf, acc, app;
before(async () => {
  rtk = await startRtk();
  cf = rtk.client();
  acc = rtk.accountId;
});
after(() => rtk?.stop());
beforeEach(async () => {
  app = (await cf.realtimeKit.apps.post({ account_id: acc, name: unique('app') })).data.app;
});

const DEFAULTS = {
  title: null,
  status: 'ACTIVE',
  record_on_start: false,
  live_stream_on_start: false,
  persist_chat: false,
  summarize_on_end: false,
  transcribe_on_end: false,
  session_keep_alive_time_in_secs: 60,
};
const AI_CONFIG = {
  summarization: { summary_type: 'team_meeting', text_format: 'markdown', word_limit: 250 },
  transcription: { keywords: ['rtk', 'RealtimeKit'], language: 'en-IN', profanity_filter: true },
};
const RECORDING_CONFIG = {
  audio_config: { channel: 'stereo', codec: 'AAC', export_file: true },
  file_name_prefix: 'weekly',
  live_streaming_config: { rtmp_url: 'rtmp://live.example.com/app/key' },
  max_seconds: 3600,
  realtimekit_bucket_config: { enabled: false },
  storage_config: { type: 'aws', access_key: 'AKIA-TEST', secret: 's3cr3t', bucket: 'recordings', region: 'eu-central-1', path: 'meetings/' },
  video_config: {
    codec: 'VP9',
    export_file: true,
    height: 720,
    width: 1280,
    watermark: { position: 'right bottom', size: { height: 40, width: 120 }, url: 'https://example.com/wm.png' },
  },
};
// A storage config's secrets are write-only.
const { access_key, secret, ...ECHOED_STORAGE } = RECORDING_CONFIG.storage_config;
const ECHOED_RECORDING_CONFIG = { ...RECORDING_CONFIG, storage_config: ECHOED_STORAGE };

const pick = (obj, keys) => Object.fromEntries(keys.map((k) => [k, obj[k]]));
const byId = (id) => cf.realtimeKit.meetings.getMeetingByID(id, { account_id: acc, app_id: app.id });
const create = (params = {}) => cf.realtimeKit.meetings.create(app.id, { account_id: acc, ...params });

test('create with defaults', async () => {
  const resp = await create();
  shape(resp, MEETING_ENVELOPE);
  assert.deepEqual(pick(resp.data, Object.keys(DEFAULTS)), DEFAULTS);
  assertRecent(resp.data.created_at);
  assert.equal(resp.data.updated_at, resp.data.created_at);
});

test('create stores every field', async () => {
  const given = {
    title: 'Weekly sync',
    record_on_start: true,
    live_stream_on_start: true,
    persist_chat: true,
    summarize_on_end: true,
    transcribe_on_end: true,
    session_keep_alive_time_in_secs: 120,
  };
  const resp = await create({ ...given, ai_config: AI_CONFIG, recording_config: RECORDING_CONFIG });
  shape(resp, MEETING_ENVELOPE);
  const m = resp.data;
  assert.deepEqual(pick(m, Object.keys(given)), given);
  assert.equal(m.status, 'ACTIVE');
  assert.deepEqual(m.ai_config, AI_CONFIG);
  assert.deepEqual(m.recording_config, ECHOED_RECORDING_CONFIG);
  assert.deepEqual((await byId(m.id)).data, m);
});

test('get lists meetings newest first with paging, search and filters', async () => {
  const made = [];
  for (const t of ['Design review', 'Budget review', 'Retro']) made.push((await create({ title: t })).data);
  const newestFirst = made.map((m) => m.id).reverse();

  const resp = await cf.realtimeKit.meetings.get(app.id, { account_id: acc });
  shape(resp, MEETING_LIST);
  for (const m of resp.data) shape(m, MEETING, 'item');
  assert.deepEqual(resp.data.map((m) => m.id), newestFirst);
  assert.deepEqual(resp.paging, { total_count: 3, start_offset: 1, end_offset: 3 });

  const page = await cf.realtimeKit.meetings.get(app.id, { account_id: acc, page_no: 2, per_page: 2 });
  assert.deepEqual(page.data.map((m) => m.id), newestFirst.slice(2));
  assert.deepEqual(page.paging, { total_count: 3, start_offset: 3, end_offset: 3 });

  const found = await cf.realtimeKit.meetings.get(app.id, { account_id: acc, search: 'REVIEW' });
  assert.deepEqual(found.data.map((m) => m.title).sort(), ['Budget review', 'Design review']);

  const last = made[2].created_at;
  const since = await cf.realtimeKit.meetings.get(app.id, { account_id: acc, start_time: last });
  assert.ok(since.data.some((m) => m.id === made[2].id));
  assert.ok(since.data.every((m) => Date.parse(m.created_at) >= Date.parse(last)));
  const before = new Date(Date.parse(made[0].created_at) - 1000).toISOString();
  const none = await cf.realtimeKit.meetings.get(app.id, { account_id: acc, end_time: before });
  assert.deepEqual(none.data, []);

  await cf.realtimeKit.meetings.updateMeetingByID(made[1].id, { account_id: acc, app_id: app.id, status: 'INACTIVE' });
  const inactive = await cf.realtimeKit.meetings.get(app.id, { account_id: acc, status: 'INACTIVE' });
  assert.deepEqual(inactive.data.map((m) => [m.id, m.status]), [[made[1].id, 'INACTIVE']]);
  assert.equal(inactive.paging.total_count, 1);
});

test('updateMeetingByID changes only the given fields', async () => {
  const m = (await create({ title: 'Before', persist_chat: true, ai_config: AI_CONFIG })).data;
  const resp = await cf.realtimeKit.meetings.updateMeetingByID(m.id, {
    account_id: acc,
    app_id: app.id,
    title: 'After',
    status: 'INACTIVE',
    recording_config: RECORDING_CONFIG,
  });
  shape(resp, MEETING_ENVELOPE);
  const u = resp.data;
  assert.deepEqual(pick(u, ['id', 'title', 'status', 'persist_chat']), { id: m.id, title: 'After', status: 'INACTIVE', persist_chat: true });
  assert.deepEqual(u.ai_config, AI_CONFIG);
  assert.deepEqual(u.recording_config, ECHOED_RECORDING_CONFIG);
  assert.equal(u.created_at, m.created_at);
  assert.deepEqual((await byId(m.id)).data, u);
});

test('replaceMeetingByID resets what is not given', async () => {
  const m = (await create({ title: 'Old', persist_chat: true, record_on_start: true, ai_config: AI_CONFIG })).data;
  await cf.realtimeKit.meetings.updateMeetingByID(m.id, { account_id: acc, app_id: app.id, status: 'INACTIVE' });
  const resp = await cf.realtimeKit.meetings.replaceMeetingByID(m.id, { account_id: acc, app_id: app.id, title: 'New', summarize_on_end: true });
  shape(resp, MEETING_ENVELOPE);
  const expected = { ...DEFAULTS, title: 'New', summarize_on_end: true, status: 'INACTIVE' }; // status is kept
  assert.deepEqual(pick(resp.data, Object.keys(expected)), expected);
  assert.equal(resp.data.ai_config ?? null, null);
  assert.deepEqual((await byId(m.id)).data, resp.data);
});

test('unknown meetings and apps are not found', async () => {
  const missing = unique('no-meeting');
  await rejectsWith(byId(missing), Cloudflare.NotFoundError, 404, `No meeting found with id ${missing}`);
  await rejectsWith(byId('a/b c'), Cloudflare.NotFoundError, 404, 'No meeting found with id a/b c');
  const noApp = unique('no-app');
  await rejectsWith(
    cf.realtimeKit.meetings.create(noApp, { account_id: acc, title: 'x' }),
    Cloudflare.NotFoundError,
    404,
    `No app found with id ${noApp}`,
  );
});

test('invalid fields are rejected and named', async () => {
  const err = await rejectsWith(
    create({ session_keep_alive_time_in_secs: 100000, ai_config: { transcription: { language: 'xx' } } }),
    Cloudflare.BadRequestError,
    400,
    '"session_keep_alive_time_in_secs" must be a whole number of seconds from 0 to 600',
  );
  assert.ok(err.errors.some((e) => e.message.startsWith('"ai_config.transcription.language" must be one of')));
  assert.deepEqual((await cf.realtimeKit.meetings.get(app.id, { account_id: acc })).data, []);
});
