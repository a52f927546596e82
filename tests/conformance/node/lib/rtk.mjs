// Shared support of the node suites: start rtk (SQLite, random port, temp data dir), make SDK
// clients, preset documents, and assertions. The TypeScript SDK does not validate responses at
// run time, so the suites check the required fields of every response themselves (`shape`).
//
// Importing this module also logs, per test, which RealtimeKit SDK methods the test called
// (see `sdk-call` below): ../../compat.py reads the log from the JUnit report of `run.sh`.

import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach } from 'node:test';
import { fileURLToPath } from 'node:url';

import Cloudflare from 'cloudflare';

export { Cloudflare };

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');

// The SDK reads credentials and the base URL from these; real ones must not leak in.
for (const k of Object.keys(process.env)) if (k.startsWith('CLOUDFLARE_')) delete process.env[k];

export function rtkBinary() {
  if (process.env.RTK_BIN) return process.env.RTK_BIN;
  return path.join(process.env.CARGO_TARGET_DIR || path.join(REPO, 'target'), 'debug', 'rtk');
}

export const unique = (prefix) => `${prefix}-${randomUUID().slice(0, 10)}`;

/** Starts rtk on a fresh data dir; resolves once it logs `rtk listening`. */
/** Starts `rtk serve` (with `extra` arguments, e.g. a manual clock) on a temp data dir. */
export async function startRtk(extra = []) {
  const binary = rtkBinary();
  if (!existsSync(binary)) throw new Error(`no rtk binary at ${binary}: run \`cargo build -p rtk-cli\` or set RTK_BIN`);
  const tmp = mkdtempSync(path.join(tmpdir(), 'rtk-conformance-node-'));
  const dataDir = path.join(tmp, 'data');
  // RTK_DATABASE_URL etc. from the caller's environment must not redirect the server.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('RTK_')));
  env.RTK_LOG = 'info';
  const child = spawn(binary, ['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir, '--log-format', 'json', ...extra], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  let started = false;
  const addr = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`rtk did not start in time; its log:\n${log}`)), 60_000);
    const onData = (chunk) => {
      if (started) {
        log = (log + chunk).slice(-20_000); // a tail, for diagnosis
        return;
      }
      log += chunk;
      for (const line of log.split('\n')) {
        if (!line.startsWith('{')) continue; // the first-start banner is plain text
        try {
          const rec = JSON.parse(line);
          if (rec.fields?.message === 'rtk listening' && rec.fields.addr) {
            clearTimeout(timer);
            started = true;
            resolve(rec.fields.addr);
            return;
          }
        } catch {
          // a partial line; wait for the rest
        }
      }
    };
    child.stdout.setEncoding('utf8').on('data', onData);
    child.stderr.setEncoding('utf8').on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`rtk exited with ${code}; its log:\n${log}`));
    });
  });
  const creds = JSON.parse(readFileSync(path.join(dataDir, 'credentials.json'), 'utf8'));
  const origin = `http://${addr}`;

  const cli = (...args) =>
    execFileSync(binary, [...args, '--data-dir', dataDir], { env, encoding: 'utf8', timeout: 60_000 }).trim();

  return {
    origin,
    dataDir,
    binary,
    env,
    accountId: creds.account_id,
    apiToken: creds.api_token,
    apiEmail: creds.api_email,
    cli,
    /** A fresh account and an API token for it. */
    newAccount(email = 'admin@rtk.local') {
      const account = cli('account', 'create');
      return { account, token: cli('token', 'create', '--account', account, '--email', email) };
    },
    /** An SDK client; `prefix: false` uses the base URL without `/client/v4`. */
    client({ prefix = true, ...credentials } = {}) {
      if (Object.keys(credentials).length === 0) credentials = { apiToken: creds.api_token };
      return logCalls(new Cloudflare({ baseURL: origin + (prefix ? '/client/v4' : ''), ...credentials }));
    },
    async stop() {
      child.removeAllListeners('exit');
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(t);
      }
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Which SDK methods each test called, for ../../compat.py
//
// Every method of the client's realtimeKit resources is wrapped. A call that resolved is logged
// as `group.method ok`, one the server answered with an error status as `group.method
// error:STATUS`. After each test the log becomes its diagnostics (`# sdk-call group.method ok`),
// which the JUnit reporter writes after the test case; compat.py counts a method as verified
// when a passing test logged it `ok`.

let calls = new Map();
beforeEach(() => {
  calls = new Map();
});
afterEach((t) => {
  for (const key of [...calls.keys()].sort()) for (const outcome of [...calls.get(key)].sort()) t.diagnostic(`sdk-call ${key} ${outcome}`);
});

function logCall(key, outcome) {
  if (!calls.has(key)) calls.set(key, new Set());
  calls.get(key).add(outcome);
}

const LOGGED = Symbol('rtk.sdkCallLog');

function logCalls(cf) {
  for (const [group, resource] of Object.entries(cf.realtimeKit)) {
    if (group.startsWith('_') || !resource || typeof resource !== 'object') continue;
    // The methods sit on a base class (Sessions extends BaseSessions extends APIResource).
    for (let proto = Object.getPrototypeOf(resource); proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
      if (Object.hasOwn(proto, LOGGED)) continue;
      proto[LOGGED] = true;
      for (const name of Object.getOwnPropertyNames(proto)) {
        const fn = Object.getOwnPropertyDescriptor(proto, name).value;
        if (name === 'constructor' || typeof fn !== 'function') continue;
        const key = `${group}.${name}`;
        proto[name] = function (...args) {
          const promise = fn.apply(this, args);
          promise.then(
            () => logCall(key, 'ok'),
            (e) => logCall(key, e instanceof Cloudflare.APIError && e.status ? `error:${e.status}` : 'failed'),
          );
          return promise;
        };
      }
    }
  }
  return cf;
}

// ---------------------------------------------------------------------------------------------
// Preset documents (TS 7.3.0 has the same preset shape as Python 5.9.0)

function colors(shade) {
  return {
    background: { 1000: '#010101', 600: '#222222', 700: '#1f1f1f', 800: '#1b1b1b', 900: '#181818' },
    brand: { 300: '#844d1c', 400: '#9d5b22', 500: `#b5${shade}27`, 600: '#d37c30', 700: '#d9904f' },
    danger: '#FF2D2D',
    success: '#62A504',
    text: '#EEEEEE',
    text_on_brand: '#EEEEEE',
    video_bg: '#191919',
    warning: '#FFCD07',
  };
}

/** A whole preset document; `variant` 0 and 1 differ in most leaves. */
export function presetDocument(name, variant = 0) {
  const on = variant === 0;
  return {
    name,
    config: {
      max_screenshare_count: on ? 1 : 2,
      max_video_streams: { desktop: on ? 6 : 9, mobile: on ? 4 : 2 },
      media: {
        screenshare: { frame_rate: on ? 5 : 10, quality: on ? 'vga' : 'hd' },
        video: { frame_rate: on ? 30 : 24, quality: on ? 'fhd' : 'uhd', simulcast: on },
        audio: { enable_high_bitrate: on, enable_stereo: !on },
      },
      view_type: on ? 'LIVESTREAM' : 'AUDIO_ROOM',
      livestream_viewer_qualities: on ? [360, 720] : [1080],
    },
    permissions: {
      accept_waiting_requests: on,
      can_accept_production_requests: true,
      can_change_participant_permissions: on,
      can_edit_display_name: true,
      can_livestream: !on,
      can_record: on,
      can_spotlight: true,
      chat: {
        private: { can_receive: true, can_send: on, files: false, text: true },
        public: { can_send: true, files: on, text: true },
      },
      connected_meetings: {
        can_alter_connected_meetings: on,
        can_switch_connected_meetings: true,
        can_switch_to_parent_meeting: !on,
      },
      disable_participant_audio: false,
      disable_participant_screensharing: !on,
      disable_participant_video: false,
      hidden_participant: false,
      kick_participant: on,
      media: {
        audio: { can_produce: 'ALLOWED' },
        screenshare: { can_produce: on ? 'CAN_REQUEST' : 'NOT_ALLOWED' },
        video: { can_produce: on ? 'ALLOWED' : 'CAN_REQUEST' },
      },
      pin_participant: true,
      plugins: {
        can_close: on,
        can_edit_config: false,
        can_start: true,
        config: {
          whiteboard: { access_control: 'FULL_ACCESS', handles_view_only: false },
          'doc-share': { access_control: on ? 'VIEW_ONLY' : 'FULL_ACCESS', handles_view_only: on },
        },
      },
      polls: { can_create: on, can_view: true, can_vote: true },
      recorder_type: on ? 'NONE' : 'RECORDER',
      show_participant_list: true,
      waiting_room_type: on ? 'SKIP' : 'ON_PRIVILEGED_USER_ENTRY',
      accept_stage_requests: on,
      is_recorder: false,
      stage_access: on ? 'CAN_REQUEST' : 'ALLOWED',
      stage_enabled: true,
      transcription_enabled: !on,
    },
    ui: {
      design_tokens: {
        border_radius: on ? 'extra-rounded' : 'sharp',
        border_width: on ? 'fat' : 'none',
        colors: colors(on ? '69' : '42'),
        spacing_base: on ? 4 : 8,
        theme: on ? 'light' : 'darkest',
        font_family: 'Inter',
        google_font: on ? 'Inter' : 'Roboto',
        logo: `https://example.com/logo-${variant}.png`,
      },
    },
  };
}

/** The preset document in a response: everything but the server-owned keys. */
export function documentOf(p) {
  const { id, created_at, updated_at, ...doc } = p;
  return doc;
}

export function deepMerge(base, patch) {
  const out = structuredClone(base);
  for (const [k, v] of Object.entries(patch)) {
    out[k] =
      v && typeof v === 'object' && !Array.isArray(v) && out[k] && typeof out[k] === 'object'
        ? deepMerge(out[k], v)
        : structuredClone(v);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Assertions

const RFC3339_Z = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

const KINDS = {
  string: (v) => typeof v === 'string',
  id: (v) => typeof v === 'string' && v.length > 0,
  number: (v) => typeof v === 'number' && Number.isFinite(v),
  boolean: (v) => typeof v === 'boolean',
  datetime: (v) => typeof v === 'string' && RFC3339_Z.test(v) && !Number.isNaN(Date.parse(v)),
  array: Array.isArray,
  object: (v) => v !== null && typeof v === 'object' && !Array.isArray(v),
};

/**
 * Checks the fields a response model declares required (SDK d.ts, no `?`): present, not
 * null, of the right kind. `spec` maps a field to a kind name, a nested spec, or a Set of
 * allowed string literals.
 */
export function shape(value, spec, where = 'response') {
  assert.ok(KINDS.object(value), `${where} is not an object: ${JSON.stringify(value)}`);
  for (const [field, kind] of Object.entries(spec)) {
    const v = value[field];
    const at = `${where}.${field}`;
    assert.ok(v !== undefined && v !== null, `${at} is required but ${v === null ? 'null' : 'absent'}`);
    if (kind instanceof Set) assert.ok(kind.has(v), `${at}: ${JSON.stringify(v)} is not one of ${[...kind]}`);
    else if (typeof kind === 'object') shape(v, kind, at);
    else assert.ok(KINDS[kind](v), `${at}: ${JSON.stringify(v)} is not a ${kind}`);
  }
}

export const PAGING = { total_count: 'number', start_offset: 'number', end_offset: 'number' };

export function assertRecent(ts, slackMs = 300_000) {
  assert.ok(KINDS.datetime(ts), `not RFC 3339 UTC: ${ts}`);
  assert.ok(Math.abs(Date.now() - Date.parse(ts)) < slackMs, `${ts} is not now`);
}

export function jwtClaims(token) {
  const parts = token.split('.');
  assert.equal(parts.length, 3, `not a JWT: ${token}`);
  return JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
}

/**
 * Awaits `promise`, expecting the SDK error class `cls` with HTTP `status`, and the server's
 * message (containing `fragment`) in the error.
 */
export async function rejectsWith(promise, cls, status, fragment) {
  let err;
  try {
    await promise;
  } catch (e) {
    err = e;
  }
  assert.ok(err, `expected ${cls.name}, but the call succeeded`);
  assert.ok(err instanceof cls, `expected ${cls.name}, got ${err?.constructor?.name}: ${err?.message}`);
  assert.equal(err.status, status);
  assert.equal(err.error?.success, false, JSON.stringify(err.error));
  assert.equal(err.error?.error?.code, status);
  if (fragment !== undefined) {
    assert.ok(
      err.errors.some((item) => item.message.includes(fragment)),
      `${JSON.stringify(fragment)} not in ${JSON.stringify(err.errors)}`,
    );
    // The message of the exception carries the body as JSON.
    assert.ok(err.message.includes(JSON.stringify(fragment).slice(1, -1)), `${fragment} not in ${err.message}`);
  }
  return err;
}
