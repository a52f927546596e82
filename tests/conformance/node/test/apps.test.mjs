// Apps: client.realtimeKit.apps.post and .get.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';

import { Cloudflare, PAGING, assertRecent, rejectsWith, shape, startRtk, unique } from '../lib/rtk.mjs';

let rtk, cf, acc;
before(async () => {
  rtk = await startRtk();
  cf = rtk.client();
  acc = rtk.accountId;
});
after(() => rtk?.stop());

/** A client on a new, empty account: lists and totals there are exact. */
function fresh() {
  const { account, token } = rtk.newAccount();
  return { client: rtk.client({ apiToken: token }), account };
}

test('post returns the new app', async () => {
  const name = unique('demo');
  const resp = await cf.realtimeKit.apps.post({ account_id: acc, name });
  assert.equal(resp.success, true);
  shape(resp.data.app, { id: 'id', name: 'string', created_at: 'datetime' }, 'data.app');
  assert.equal(resp.data.app.name, name);
  assertRecent(resp.data.app.created_at);
});

test('get lists apps oldest first with totals', async () => {
  const { client, account } = fresh();
  const empty = await client.realtimeKit.apps.get({ account_id: account });
  assert.deepEqual(empty.data, []);
  assert.equal(empty.paging.total_count, 0);

  const made = [];
  for (const i of [0, 1, 2]) made.push((await client.realtimeKit.apps.post({ account_id: account, name: `app-${i}` })).data.app);
  const resp = await client.realtimeKit.apps.get({ account_id: account });
  shape(resp, { success: 'boolean', data: 'array', paging: PAGING });
  assert.deepEqual(resp.data, made);
  assert.deepEqual(resp.paging, { total_count: 3, start_offset: 1, end_offset: 3 });
});

test('get pages, sorts and searches', async () => {
  const { client, account } = fresh();
  const ids = [];
  for (const name of ['alpha', 'beta', 'alphabet']) ids.push((await client.realtimeKit.apps.post({ account_id: account, name })).data.app.id);

  const page2 = await client.realtimeKit.apps.get({ account_id: account, page_no: 2, per_page: 2 });
  assert.deepEqual(page2.data.map((a) => a.id), ids.slice(2));
  assert.deepEqual(page2.paging, { total_count: 3, start_offset: 3, end_offset: 3 });

  const newest = await client.realtimeKit.apps.get({ account_id: account, sort_order: 'DESC' });
  assert.deepEqual(newest.data.map((a) => a.id), [...ids].reverse());

  const found = await client.realtimeKit.apps.get({ account_id: account, search: 'ALPHA' });
  assert.deepEqual(found.data.map((a) => a.name).sort(), ['alpha', 'alphabet']);
  assert.equal(found.paging.total_count, 2);
});

test('post rejects an empty name', async () => {
  await rejectsWith(
    cf.realtimeKit.apps.post({ account_id: acc, name: ' ' }),
    Cloudflare.BadRequestError,
    400,
    '"name" must be 1 to 256 characters',
  );
});
