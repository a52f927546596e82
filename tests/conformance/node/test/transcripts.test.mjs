// Transcripts and summaries: getSessionTranscripts (each format), generateSummaryOfTranscripts,
// getSessionSummary, with segments a real WebSocket peer sends (its `transcript` message).
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

test('a transcript in four formats, and its summary', async () => {
  const app = (await cf.realtimeKit.apps.post({ account_id: acc, name: unique('app') })).data.app;
  await cf.realtimeKit.presets.create(app.id, { account_id: acc, ...presetDocument('host') });
  const ids = { account_id: acc, app_id: app.id };
  const meeting = (await cf.realtimeKit.meetings.create(app.id, { account_id: acc, title: 'Talk' })).data;
  const p = (await cf.realtimeKit.meetings.addParticipant(meeting.id, { ...ids, custom_participant_id: unique('sp'), preset_name: 'host', name: 'Mo' })).data;
  const peer = await wsJoin(rtk, p);
  const s = cf.realtimeKit.sessions;
  await rejectsWith(s.getSessionTranscripts(peer.sessionId, ids), Cloudflare.NotFoundError, 404, 'No transcript');
  // The peer speaks (a `transcript` message); the server relays it back as a final segment.
  const sent = await speak(peer, 'Budget approved for Q3.');
  assert.equal(sent.final, true);

  const t = await s.getSessionTranscripts(peer.sessionId, ids);
  assert.equal(t.data.sessionId, peer.sessionId);
  assert.ok(!Number.isNaN(Date.parse(t.data.transcript_download_url_expiry)));
  const csv = await (await fetch(t.data.transcript_download_url)).text();
  assert.match(csv, /^id,start,end,speaker,peer_id,participant_id,text\n/);
  assert.match(csv, /,Mo,.*,Budget approved for Q3\.\n$/);
  for (const [format, re] of [['SRT', /^1\n\d{2}:\d{2}:\d{2},\d{3} --> \d{2}:\d{2}:\d{2},\d{3}\nMo: Budget approved for Q3\.\n\n$/], ['VTT', /^WEBVTT\n\n1\n\d{2}:\d{2}:\d{2}\.\d{3} --> \d{2}:\d{2}:\d{2}\.\d{3}\n<v Mo>Budget approved for Q3\.\n\n$/]]) {
    const l = (await s.getSessionTranscripts(peer.sessionId, { ...ids, format })).data.transcript_download_url;
    assert.match(await (await fetch(l)).text(), re, format);
  }
  const j = await (await fetch((await s.getSessionTranscripts(peer.sessionId, { ...ids, format: 'JSON' })).data.transcript_download_url)).json();
  assert.equal(j.segments[0].peer_id, peer.peerId);

  const job = await s.generateSummaryOfTranscripts(peer.sessionId, ids);
  assert.equal(job.data.status, 'COMPLETED');
  const sum = await s.getSessionSummary(peer.sessionId, ids);
  assert.equal(sum.data.sessionId, peer.sessionId);
  const md = await (await fetch(sum.data.summaryDownloadUrl)).text();
  assert.match(md, /- Mo: /);
  assert.match(md, /Budget approved for Q3\./);
});

async function speak(peer, text) {
  peer.sendRaw({ type: 'transcript', text });
  return peer.waitFor('transcript');
}
