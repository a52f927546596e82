// Real participants for the session tests: they join a meeting through rtk's WebSocket
// gateway, so the sessions the SDK reads come from the session engine.
//
//   join(rtk, participant, { device })    `rtk join` (rtk's terminal participant): one JSON line
//                                         per event, the first `joined`; SIGTERM leaves cleanly
//   wsJoin(rtk, participant, { device })  a WebSocket client (`ws`) speaking gateway protocol v2;
//                                         it sends chat, which `rtk join` cannot
//
// Both record every peer they start in `started`, so a test file can stop them all (`stopAll`).

import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

import WebSocket from 'ws';

const JOIN_TIMEOUT_MS = 30_000;
const EVENT_TIMEOUT_MS = 15_000;

const started = new Set();

/** Stops every peer still running (for `afterEach`). */
export async function stopAll() {
  const peers = [...started];
  started.clear();
  await Promise.all(peers.map((p) => p.stop()));
}

/** Events in arrival order; `waitFor(type)` consumes them up to the first of that type. */
class EventStream {
  events = [];
  #pending = [];
  #waiters = [];
  #ended = false;

  push(ev) {
    this.events.push(ev);
    this.#pending.push(ev);
    this.#wake();
  }

  end() {
    this.#ended = true;
    this.#wake();
  }

  #wake() {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }

  async waitFor(type, timeoutMs = EVENT_TIMEOUT_MS, describe = () => '') {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.#pending.length) {
        const ev = this.#pending.shift();
        if (ev.type === type) return ev;
      }
      if (this.#ended) throw new Error(`ended before a ${type} event: ${JSON.stringify(this.events)}${describe()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no ${type} event in ${timeoutMs} ms: ${JSON.stringify(this.events)}${describe()}`);
      await new Promise((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }
}

/** `rtk join --base-url ORIGIN --token TOKEN`, joined. */
export async function join(rtk, participant, { device } = {}) {
  const args = ['join', '--base-url', rtk.origin, '--token', participant.token];
  if (device) args.push('--device', JSON.stringify(device));
  const startedAt = performance.now();
  const child = spawn(rtk.binary, args, { env: rtk.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const stream = new EventStream();
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d) => (stderr += d));
  createInterface({ input: child.stdout }).on('line', (line) => line.trim() && stream.push(JSON.parse(line)));
  child.stdout.on('close', () => stream.end());
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const why = () => (stderr ? `; stderr: ${stderr}` : '');

  const peer = {
    events: stream.events,
    startedAt,
    waitFor: (type, timeoutMs) => stream.waitFor(type, timeoutMs, why),
    get running() {
      return child.exitCode === null && child.signalCode === null;
    },
    /** SIGTERM: a clean leave (`left`, exit 0). Resolves to performance.now() after it. */
    async leave() {
      // `rtk join` handles SIGTERM from before it prints `joined`: no wait is needed.
      child.kill('SIGTERM');
      await peer.waitFor('left');
      const { code } = await exited;
      if (code !== 0) throw new Error(`rtk join exited with ${code} after leaving${why()}`);
      started.delete(peer);
      return performance.now();
    },
    /** Waits for the server to close the connection (kick, kick-all): `closed`, exit 2. */
    async waitClosed() {
      const closed = await peer.waitFor('closed');
      const { code } = await exited;
      if (code !== 2) throw new Error(`rtk join exited with ${code} after being closed${why()}`);
      started.delete(peer);
      return closed;
    },
    async stop() {
      started.delete(peer);
      if (peer.running) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(t);
      }
    },
  };
  started.add(peer);
  const joined = await stream.waitFor('joined', JOIN_TIMEOUT_MS, why);
  Object.assign(peer, {
    joinedAt: performance.now(), // the server recorded the join before it said so
    peerId: joined.peer_id,
    sessionId: joined.session_id,
    meetingId: joined.meeting_id,
    peers: joined.peers_total,
  });
  return peer;
}

/** A participant on a plain WebSocket (gateway protocol v2): hello, join, chat, leave. */
export async function wsJoin(rtk, participant, { device } = {}) {
  const url = `${rtk.origin.replace(/^http:/, 'ws:')}/gateway/v1?token=${encodeURIComponent(participant.token)}`;
  const ws = new WebSocket(url);
  const stream = new EventStream();
  ws.on('message', (data) => stream.push(JSON.parse(data.toString('utf8'))));
  ws.on('close', () => stream.end());
  ws.on('error', () => stream.end());
  const closed = new Promise((resolve) => ws.once('close', resolve));
  const peer = {
    events: stream.events,
    waitFor: (type, timeoutMs) => stream.waitFor(type, timeoutMs),
    /** Sends any gateway message (an object). */
    sendRaw(message) {
      ws.send(JSON.stringify(message));
    },
    /** Sends a chat message; resolves to the server's broadcast of it (the sender gets it too). */
    async chat(message) {
      ws.send(JSON.stringify({ type: 'chat', message }));
      return peer.waitFor('chat');
    },
    async leave() {
      ws.send(JSON.stringify({ type: 'leave' }));
      await peer.waitFor('left');
      await peer.stop();
    },
    async stop() {
      started.delete(peer);
      if (ws.readyState !== WebSocket.CLOSED) {
        ws.close();
        await closed;
      }
    },
  };
  started.add(peer);
  const hello = await stream.waitFor('hello', JOIN_TIMEOUT_MS);
  if (hello.protocol !== 2) throw new Error(`unexpected hello: ${JSON.stringify(hello)}`);
  ws.send(JSON.stringify(device ? { type: 'join', device } : { type: 'join' }));
  const joined = await stream.waitFor('joined', JOIN_TIMEOUT_MS);
  Object.assign(peer, { peerId: joined.peer_id, sessionId: joined.session_id, peers: joined.peers });
  return peer;
}
