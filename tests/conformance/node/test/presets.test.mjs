// Presets: create, get (list), getPresetByID, update (PATCH), replacePresetByID (PUT), delete.
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';

import { Cloudflare, assertRecent, deepMerge, documentOf, presetDocument, rejectsWith, shape, startRtk, unique } from '../lib/rtk.mjs';
import { PRESET_ENVELOPE, PRESET_LIST } from '../lib/shapes.mjs';

let rtk, cf, acc, app, preset;
before(async () => {
  rtk = await startRtk();
  cf = rtk.client();
  acc = rtk.accountId;
});
after(() => rtk?.stop());

// Every test gets a fresh app with one preset `host`.
beforeEach(async () => {
  app = (await cf.realtimeKit.apps.post({ account_id: acc, name: unique('app') })).data.app;
  preset = (await cf.realtimeKit.presets.create(app.id, { account_id: acc, ...presetDocument('host') })).data;
});

const byId = (id) => cf.realtimeKit.presets.getPresetByID(id, { account_id: acc, app_id: app.id });

test('create stores and returns the whole document', async () => {
  const doc = presetDocument('guest', 1);
  const resp = await cf.realtimeKit.presets.create(app.id, { account_id: acc, ...doc });
  shape(resp, PRESET_ENVELOPE);
  assert.equal(resp.success, true);
  assert.deepEqual(documentOf(resp.data), doc);
  assertRecent(resp.data.created_at);
  assert.equal(resp.data.updated_at, resp.data.created_at);
});

test('getPresetByID round-trips', async () => {
  const resp = await byId(preset.id);
  shape(resp, PRESET_ENVELOPE);
  assert.deepEqual(resp.data, preset);
  assert.deepEqual(documentOf(resp.data), presetDocument('host'));
  assert.deepEqual(resp.data.permissions.plugins.config['doc-share'], { access_control: 'VIEW_ONLY', handles_view_only: true });
});

test('get lists presets with paging and search', async () => {
  const ids = [preset.id];
  for (const n of ['co-host', 'viewer']) ids.push((await cf.realtimeKit.presets.create(app.id, { account_id: acc, ...presetDocument(n) })).data.id);

  const resp = await cf.realtimeKit.presets.get(app.id, { account_id: acc });
  shape(resp, PRESET_LIST);
  assert.deepEqual(resp.data.map((p) => [p.id, p.name]), [[ids[0], 'host'], [ids[1], 'co-host'], [ids[2], 'viewer']]);
  for (const p of resp.data) shape(p, { id: 'id', name: 'string', created_at: 'datetime', updated_at: 'datetime' }, 'item');
  assert.deepEqual(resp.paging, { total_count: 3, start_offset: 1, end_offset: 3 });

  const page = await cf.realtimeKit.presets.get(app.id, { account_id: acc, page_no: 2, per_page: 2 });
  assert.deepEqual(page.data.map((p) => p.id), ids.slice(2));
  assert.deepEqual(page.paging, { total_count: 3, start_offset: 3, end_offset: 3 });

  const found = await cf.realtimeKit.presets.get(app.id, { account_id: acc, search: 'HOST' });
  assert.deepEqual(found.data.map((p) => p.name).sort(), ['co-host', 'host']);
  assert.equal(found.paging.total_count, 2);
});

test('update merges a partial document', async () => {
  const patch = {
    config: { max_video_streams: { desktop: 12 } },
    permissions: { polls: { can_create: false }, recorder_type: 'LIVESTREAMER' },
  };
  const resp = await cf.realtimeKit.presets.update(preset.id, { account_id: acc, app_id: app.id, name: 'presenter', ...patch });
  shape(resp, PRESET_ENVELOPE);
  const expected = deepMerge(presetDocument('presenter'), patch);
  assert.deepEqual(documentOf(resp.data), expected);
  assert.equal(resp.data.config.max_video_streams.mobile, 4);
  assert.equal(resp.data.created_at, preset.created_at);
  assert.ok(Date.parse(resp.data.updated_at) >= Date.parse(preset.updated_at));
  assert.deepEqual(documentOf((await byId(preset.id)).data), expected);
});

test('update rejects a bad leaf and names it', async () => {
  await rejectsWith(
    cf.realtimeKit.presets.update(preset.id, { account_id: acc, app_id: app.id, config: { media: { video: { quality: '8k' } } } }),
    Cloudflare.BadRequestError,
    400,
    '"config.media.video.quality" must be one of',
  );
  assert.deepEqual(documentOf((await byId(preset.id)).data), presetDocument('host'));
});

test('create refuses a duplicate name', async () => {
  const client = rtk.client({ apiToken: rtk.apiToken, maxRetries: 0 }); // 409 is retried by default
  const err = await rejectsWith(
    client.realtimeKit.presets.create(app.id, { account_id: acc, ...presetDocument('host') }),
    Cloudflare.ConflictError,
    409,
  );
  assert.ok(err.errors.length > 0);
});

test('replacePresetByID replaces the document', async () => {
  const doc = presetDocument('replaced', 1);
  delete doc.config.livestream_viewer_qualities; // absent from the new document: gone
  const resp = await cf.realtimeKit.presets.replacePresetByID(preset.id, { account_id: acc, app_id: app.id, ...doc });
  shape(resp, PRESET_ENVELOPE);
  assert.equal(resp.data.id, preset.id);
  assert.deepEqual(documentOf(resp.data), doc);
  assert.equal(resp.data.created_at, preset.created_at);
  assert.deepEqual(documentOf((await byId(preset.id)).data), doc);
});

test('delete returns the preset and removes it', async () => {
  const resp = await cf.realtimeKit.presets.delete(preset.id, { account_id: acc, app_id: app.id });
  shape(resp, PRESET_ENVELOPE);
  assert.deepEqual(resp.data, preset);
  await rejectsWith(byId(preset.id), Cloudflare.NotFoundError, 404, `No preset found with id ${preset.id}`);
  assert.deepEqual((await cf.realtimeKit.presets.get(app.id, { account_id: acc })).data, []);
});

test('presets of an unknown app are not found', async () => {
  const missing = unique('no-app');
  await rejectsWith(
    cf.realtimeKit.presets.get(missing, { account_id: acc }),
    Cloudflare.NotFoundError,
    404,
    `No app found with id ${missing}`,
  );
});
