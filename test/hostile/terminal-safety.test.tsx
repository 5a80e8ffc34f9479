// Hostile-target catalog: a target that names a topic with terminal control sequences (a window
// title, a bell) and closes users with a reason full of them (clear screen, a C1 CSI). What a
// target says is shown, never obeyed: the control characters reach no output as themselves,
// they read as \xNN in the console's frame, the event log, the summary, JSON and NDJSON.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Server as SocketIoServer } from 'socket.io';
import { WebSocketServer } from 'ws';
import { createEngine, type Engine } from '../../console/engine/engine.ts';
import { ConsoleSession } from '../../console/script/console-session.ts';
import { App } from '../../console/ui/app.tsx';
import { runCli } from '../helpers/run-cli.ts';
import { eventually } from '../helpers/test-client.ts';
import { type FakeTerminal, renderInTerminal } from '../ui/fake-terminal.ts';

const TOPIC = '\u001b]0;pwned\u0007';
const REASON = 'bye\u001b[2J\u009b1m';
const SHOWN_TOPIC = '\\x1b]0;pwned\\x07';
const SHOWN_CLOSE = 'close.4000: reason "bye\\x1b[2J\\x9b1m"';
// C0 but a newline, DEL and C1: nothing a target sent may reach an output as one of these
function controls(text: string): string[] {
  return [...text].filter((c) => {
    const code = c.charCodeAt(0);
    return (code < 0x20 && c !== '\n') || (code >= 0x7f && code <= 0x9f);
  });
}

let wss: WebSocketServer;
let url: string;
let ticker: NodeJS.Timeout;
// connections taken since the test began: the first three are closed with the hostile reason
let accepted = 0;
const dir = mkdtempSync(join(tmpdir(), 'sockstorm-terminal-'));

beforeAll(async () => {
  // fans a message out on the hostile topic every 100 ms, and closes the first three connections
  // it takes, 300 ms in, with the hostile reason (users reconnect and stay)
  wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  wss.on('connection', (socket) => {
    if (++accepted <= 3) setTimeout(() => socket.close(4000, REASON), 300);
  });
  let seq = 0;
  ticker = setInterval(() => {
    const frame = JSON.stringify({ topic: TOPIC, seq: ++seq, ts: Date.now() });
    for (const client of wss.clients) client.send(frame);
  }, 100);
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  url = `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`;
});
afterAll(async () => {
  clearInterval(ticker);
  for (const client of wss.clients) client.terminate();
  await new Promise((resolve) => wss.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

/** Every string in a parsed JSON value. */
function strings(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(strings);
  if (value && typeof value === 'object') return [...Object.keys(value), ...Object.values(value).flatMap(strings)];
  return [];
}

describe('a target that sends terminal control sequences, run headless', () => {
  it('never writes them to the summary, progress, JSON or NDJSON, and shows them as \\xNN', async () => {
    accepted = 0;
    const script = join(dir, 'hostile.storm');
    writeFileSync(script, 'vus 5\nawait open 5 timeout 10s\nwait 2s\n');
    const json = join(dir, 'out.json');
    const ndjson = join(dir, 'out.ndjson');
    const result = await runCli([
      'run',
      script,
      '--target',
      url,
      '--topic-path',
      'topic',
      '--seq-path',
      'seq',
      '--ts-path',
      'ts',
      '--json',
      json,
      '--ndjson',
      ndjson,
    ]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('close.4000');
    expect(controls(result.stdout)).toEqual([]);
    expect(controls(result.stderr)).toEqual([]);
    const summary = JSON.parse(readFileSync(json, 'utf8'));
    expect(summary.broadcasts.settled).toBeGreaterThan(0);
    expect(summary.broadcasts.last[0].topic).toBe(SHOWN_TOPIC);
    expect(strings(summary).flatMap(controls)).toEqual([]);
    const snapshots = readFileSync(ndjson, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line));
    expect(snapshots.flatMap(strings).flatMap(controls)).toEqual([]);
    expect(snapshots.at(-1).events.map((e: { text: string }) => e.text)).toContain(SHOWN_CLOSE);
  });
});

describe('a Socket.IO server that refuses with terminal control sequences in its connect_error', () => {
  it('is quoted in the event log once, as \\xNN', async () => {
    const http = createServer();
    const io = new SocketIoServer(http, { transports: ['websocket'] });
    io.use((_socket, next) => next(new Error('no entry\u001b]0;pwned\u0007')));
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const engine = await createEngine({
      target: `ws://127.0.0.1:${(http.address() as AddressInfo).port}/`,
      protocol: 'socketio',
      snapshotIntervalMs: 200,
    });
    try {
      await engine.dispatch({ type: 'set-target', count: 3 });
      await eventually(() => (engine.getSnapshot().errors['socketio.connect_error'] ?? 0) >= 3, 10_000);
      await eventually(
        () => engine.getSnapshot().events.some((e) => e.text.startsWith('socketio.connect_error')),
        5000,
      );
      const quoted = engine.getSnapshot().events.filter((e) => e.text.startsWith('socketio.connect_error'));
      expect(quoted.map((e) => e.text)).toEqual(['socketio.connect_error: "no entry\\x1b]0;pwned\\x07"']);
    } finally {
      await engine.stop();
      await new Promise((resolve) => io.close(resolve));
    }
  });
});

describe('a target that sends terminal control sequences, in the console', () => {
  let engine: Engine | null = null;
  let terminal: FakeTerminal | null = null;
  afterEach(async () => {
    terminal?.unmount();
    terminal = null;
    await engine?.stop();
    engine = null;
  });

  it('draws the topic and the close reason as \\xNN, and writes none of their control characters to the terminal', async () => {
    accepted = 0;
    engine = await createEngine({
      target: url,
      framePaths: { topicPath: 'topic', seqPath: 'seq', tsPath: 'ts' },
      snapshotIntervalMs: 200,
    });
    await engine.dispatch({ type: 'set-target', count: 5 });
    const live = engine;
    await eventually(
      () => live.getSnapshot().broadcasts.length > 0 && live.getSnapshot().events.some((e) => e.text === SHOWN_CLOSE),
      10_000,
    );
    terminal = renderInTerminal(<App engine={live} session={new ConsoleSession(live)} onQuit={() => {}} />, 120, 40);
    const shown = terminal;
    await eventually(
      () => shown.lastFrame().includes(`to ${SHOWN_TOPIC}`) && shown.lastFrame().includes(SHOWN_CLOSE),
      5000,
    );
    for (const raw of [TOPIC, REASON, '\u0007', '\u009b', '\u001b]']) expect(shown.rawFrame()).not.toContain(raw);
  });
});
