// How a client reaches rtk: apiToken and apiEmail + apiKey, base URLs with and without
// /client/v4, and the errors of bad credentials and of other accounts.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Cloudflare, rejectsWith, startRtk, unique } from '../lib/rtk.mjs';

let rtk;
before(async () => {
  rtk = await startRtk();
});
after(() => rtk?.stop());

for (const style of ['apiToken', 'apiEmail+apiKey']) {
  for (const prefix of [true, false]) {
    test(`${style} on ${prefix ? '/client/v4' : 'the root'}`, async () => {
      // A fresh account, so its app list is exact.
      const { account: acc, token } = rtk.newAccount('conformance@rtk.local');
      const credentials = style === 'apiToken' ? { apiToken: token } : { apiEmail: 'conformance@rtk.local', apiKey: token };
      const client = rtk.client({ prefix, ...credentials });
      const name = unique('via');
      const app = (await client.realtimeKit.apps.post({ account_id: acc, name })).data.app;
      assert.equal(app.name, name);
      assert.deepEqual((await client.realtimeKit.apps.get({ account_id: acc })).data.map((a) => a.id), [app.id]);
      const m = (await client.realtimeKit.meetings.create(app.id, { account_id: acc, title: name })).data;
      const got = (await client.realtimeKit.meetings.getMeetingByID(m.id, { account_id: acc, app_id: app.id })).data;
      assert.deepEqual([got.id, got.title], [m.id, name]);
    });
  }
}

test('the first-start credentials work as apiEmail + apiKey', async () => {
  const client = rtk.client({ apiEmail: rtk.apiEmail, apiKey: rtk.apiToken });
  const app = (await client.realtimeKit.apps.post({ account_id: rtk.accountId, name: unique('first') })).data.app;
  const m = (await client.realtimeKit.meetings.create(app.id, { account_id: rtk.accountId, title: 't' })).data;
  assert.equal((await client.realtimeKit.meetings.getMeetingByID(m.id, { account_id: rtk.accountId, app_id: app.id })).data.id, m.id);
});

test('a bad token is an AuthenticationError', async () => {
  const client = rtk.client({ apiToken: 'rtk_not-a-real-token' });
  await rejectsWith(client.realtimeKit.apps.get({ account_id: rtk.accountId }), Cloudflare.AuthenticationError, 401, 'invalid API token');
});

test('a wrong email for a key is an AuthenticationError', async () => {
  const client = rtk.client({ apiEmail: 'someone@example.com', apiKey: rtk.apiToken });
  await rejectsWith(
    client.realtimeKit.apps.get({ account_id: rtk.accountId }),
    Cloudflare.AuthenticationError,
    401,
    'invalid X-Auth-Email / X-Auth-Key pair',
  );
});

test("another account's resources are not found", async () => {
  const { account, token } = rtk.newAccount();
  const other = rtk.client({ apiToken: token });
  await rejectsWith(
    other.realtimeKit.apps.get({ account_id: rtk.accountId }),
    Cloudflare.NotFoundError,
    404,
    `No account found with id ${rtk.accountId}`,
  );
  assert.deepEqual((await other.realtimeKit.apps.get({ account_id: account })).data, []);
});
