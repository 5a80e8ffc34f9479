import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import WebSocket from 'ws';
import { PROGRAM_NODE_FLAGS } from '../console/runtime.ts';

/** Waits, to let sockets and counters settle between phases. */
export function settle(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Opens `count` plain `ws` clients with at most `inFlight` handshakes pending. */
export async function connectMany(
  url: string,
  count: number,
  inFlight: number,
  setup: (ws: WebSocket) => void,
): Promise<WebSocket[]> {
  const open: WebSocket[] = [];
  let started = 0;
  let failed = 0;
  await new Promise<void>((resolve) => {
    const next = (): void => {
      if (open.length + failed === count) return resolve();
      if (started >= count) return;
      started++;
      const ws = new WebSocket(url, { perMessageDeflate: false });
      setup(ws);
      ws.once('open', () => {
        open.push(ws);
        next();
      });
      ws.once('error', () => {
        failed++;
        next();
      });
    };
    for (let i = 0; i < Math.min(inFlight, count); i++) next();
  });
  if (failed > 0) console.error(`  ${failed} of ${count} connections failed`);
  return open;
}

/** One round's figures, by name. */
export type Figures = Record<string, number>;

/** The median of each figure over rounds. */
export function median(rows: Figures[]): Figures {
  return Object.fromEntries(
    Object.keys(rows[0]!).map((key) => {
      const sorted = rows.map((r) => r[key]!).sort((a, b) => a - b);
      return [key, sorted[Math.floor(sorted.length / 2)]!];
    }),
  );
}

/** A figure with a fixed number of digits and thousands separators. */
export const fmt = (value: number, digits = 1): string =>
  value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** The lowest and highest of a figure over rounds, as `min-max`. */
export function range(rows: Figures[], key: string, digits: number, scale = 1): string {
  const values = rows.map((r) => r[key]! * scale);
  return `${fmt(Math.min(...values), digits)}-${fmt(Math.max(...values), digits)}`;
}

/** `met` or `MISSED`, and the goal it was held to. */
export function verdict(isMet: boolean, goal: string): string {
  return `${isMet ? 'met' : 'MISSED'} (${goal})`;
}

/** A program the bench started that announced itself with one JSON line on stdout. */
export interface Listening {
  /** Its first stdout line, parsed (`port`, and for the bundled server `adminPort`, `token`). */
  readonly info: Record<string, unknown> & { port: number };
  readonly pid: number;
  /** SIGTERM, SIGKILL after 3 s; resolves when it has exited. Idempotent. */
  stop(): Promise<void>;
}

/** Starts `node FILE ARGS` (plain Node, a bundle) and waits for its listening line. */
export function startListening(file: string, args: string[] = []): Promise<Listening> {
  // the Node flags sockstorm starts its server with, for the bare echo app too: the two differ in their JavaScript only
  const child = spawn(process.execPath, [...PROGRAM_NODE_FLAGS.server, file, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2000);
  });
  child.stdin!.on('error', () => {});
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    })();
    return stopping;
  };
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', (line) => {
      try {
        resolve({ info: JSON.parse(line) as Listening['info'], pid: child.pid!, stop });
      } catch {
        void stop();
        reject(new Error(`${file} printed ${line}`));
      }
    });
    child.once('exit', (code) => reject(new Error(`${file} exited with ${code}: ${stderr.trim()}`)));
  });
}
