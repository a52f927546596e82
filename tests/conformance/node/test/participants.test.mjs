// Meeting participants: addParticipant, getMeetingParticipants, getMeetingParticipant,
// editParticipant, deleteMeetingParticipant, refreshParticipantToken.
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';

import { Cloudflare, assertRecent, jwtClaims, presetDocument, rejectsWith, shape, startRtk, unique } from '../lib/rtk.mjs';
import { PARTICIPANT, PARTICIPANT_DELETED, PARTICIPANT_ENVELOPE, PARTICIPANT_LIST, PARTICIPANT_WITH_TOKEN, TOKEN } from '../lib/shapes.mjs';

let rtk, cf, acc, app, preset, meeting, ids;
before(async () => {
  rtk = await startRtk();
  cf = rtk.client();
  acc = rtk.accountId;
});
after(() => rtk?.stop());
// Every test: a fresh app with presets `host` and `viewer`, and a meeting.
beforeEach(async () => {
  app = (await cf.realtimeKit.apps.post({ account_id: acc, name: unique('app') })).data.app;
  preset = (await cf.realtimeKit.presets.create(app.id, { account_id: acc, ...presetDocument('host') })).data;
  await cf.realtimeKit.presets.create(app.id, { account_id: acc, ...presetDocument('viewer', 1) });
  meeting = (await cf.realtimeKit.meetings.create(app.id, { account_id: acc, title: unique('meeting') })).data;
  ids = { account_id: acc, app_id: app.id, meeting_id: meeting.id };
});

const add = (params) => cf.realtimeKit.meetings.addParticipant(meeting.id, { account_id: acc, app_id: app.id, ...params });
const ada = () =>
  add({ custom_participant_id: unique('user'), preset_name: 'host', name: 'Ada Lovelace', picture: 'https://example.com/ada.png' });
const hasClaims = (token, ...values) => {
  const claims = Object.values(jwtClaims(token));
  return values.every((v) => claims.includes(v));
};

test('addParticipant returns it with a token', async () => {
  const cpid = unique('user');
  const resp = await add({ custom_participant_id: cpid, preset_name: 'host', name: 'Ada Lovelace', picture: 'https://example.com/ada.png' });
  shape(resp, PARTICIPANT_WITH_TOKEN);
  const p = resp.data;
  assert.deepEqual(
    [p.custom_participant_id, p.preset_name, p.name, p.picture],
    [cpid, 'host', 'Ada Lovelace', 'https://example.com/ada.png'],
  );
  assertRecent(p.created_at);
  assert.ok(hasClaims(p.token, p.id, meeting.id));
});

test('getMeetingParticipant round-trips without the token', async () => {
  const { token, ...added } = (await ada()).data;
  const resp = await cf.realtimeKit.meetings.getMeetingParticipant(added.id, ids);
  shape(resp, PARTICIPANT_ENVELOPE);
  assert.deepEqual(resp.data, added);
});

test('getMeetingParticipants lists oldest first with paging', async () => {
  const made = [];
  for (const i of [0, 1, 2]) made.push((await add({ custom_participant_id: `user-${i}`, preset_name: 'host', name: `P${i}` })).data);
  const resp = await cf.realtimeKit.meetings.getMeetingParticipants(meeting.id, { account_id: acc, app_id: app.id });
  shape(resp, PARTICIPANT_LIST);
  for (const p of resp.data) shape(p, PARTICIPANT, 'item');
  assert.deepEqual(resp.data.map((p) => p.id), made.map((p) => p.id));
  assert.deepEqual(resp.data.map((p) => p.name), ['P0', 'P1', 'P2']);
  assert.deepEqual(resp.paging, { total_count: 3, start_offset: 1, end_offset: 3 });

  const page = await cf.realtimeKit.meetings.getMeetingParticipants(meeting.id, { account_id: acc, app_id: app.id, page_no: 2, per_page: 2 });
  assert.deepEqual(page.data.map((p) => p.id), [made[2].id]);
  assert.deepEqual(page.paging, { total_count: 3, start_offset: 3, end_offset: 3 });
});

test('editParticipant changes given fields and issues a token', async () => {
  const p = (await ada()).data;
  const resp = await cf.realtimeKit.meetings.editParticipant(p.id, { ...ids, name: 'Ada King', preset_name: 'viewer' });
  shape(resp, PARTICIPANT_WITH_TOKEN);
  const e = resp.data;
  assert.deepEqual([e.id, e.name, e.preset_name, e.picture], [p.id, 'Ada King', 'viewer', p.picture]);
  assert.notEqual(e.token, p.token);
  assert.ok(hasClaims(e.token, p.id, 'viewer'));

  const cleared = (await cf.realtimeKit.meetings.editParticipant(p.id, { ...ids, picture: null })).data;
  assert.equal(cleared.picture ?? null, null);
  assert.equal(cleared.name, 'Ada King');

  await rejectsWith(
    cf.realtimeKit.meetings.editParticipant(p.id, { ...ids, preset_name: 'nope' }),
    Cloudflare.BadRequestError,
    400,
    `No preset named "nope" exists in app ${app.id}`,
  );
});

test('refreshParticipantToken issues a new token', async () => {
  const p = (await ada()).data;
  const resp = await cf.realtimeKit.meetings.refreshParticipantToken(p.id, ids);
  shape(resp, TOKEN);
  assert.notEqual(resp.data.token, p.token);
  assert.ok(hasClaims(resp.data.token, p.id, meeting.id));
});

test('deleteMeetingParticipant returns it and removes it', async () => {
  const p = (await ada()).data;
  const resp = await cf.realtimeKit.meetings.deleteMeetingParticipant(p.id, ids);
  shape(resp, PARTICIPANT_DELETED);
  assert.deepEqual(
    [resp.data.custom_participant_id, resp.data.preset_id, resp.data.created_at],
    [p.custom_participant_id, preset.id, p.created_at],
  );
  await rejectsWith(cf.realtimeKit.meetings.getMeetingParticipant(p.id, ids), Cloudflare.NotFoundError, 404, `No participant found with id ${p.id}`);
  await rejectsWith(cf.realtimeKit.meetings.refreshParticipantToken(p.id, ids), Cloudflare.NotFoundError, 404);
  const listed = await cf.realtimeKit.meetings.getMeetingParticipants(meeting.id, { account_id: acc, app_id: app.id });
  assert.deepEqual(listed.data, []);
  assert.equal(listed.paging.total_count, 0);
});

test('addParticipant rejects an unknown preset and an unknown meeting', async () => {
  await rejectsWith(
    add({ custom_participant_id: 'u1', preset_name: 'nope' }),
    Cloudflare.BadRequestError,
    400,
    `No preset named "nope" exists in app ${app.id}`,
  );
  const missing = unique('no-meeting');
  await rejectsWith(
    cf.realtimeKit.meetings.addParticipant(missing, { account_id: acc, app_id: app.id, custom_participant_id: 'u1', preset_name: 'host' }),
    Cloudflare.NotFoundError,
    404,
    `No meeting found with id ${missing}`,
  );
});
