/**
 * Starts the bundled target server as a child process, so it never shares the generator's
 * event loop, and waits for its `{"event":"listening"}` line.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { ListeningEvent, ServerConfig } from '../../../target-server/contract/wire.ts';
import { EXIT, ExitError } from '../../../target-server/contract/exit-codes.ts';
import { programEntry } from '../../runtime.ts';

/** Options for {@link startBundledServer}. */
export interface BundledServerOptions {
  /** @default 'uws' */
  engine?: 'uws' | 'ws';
  /** @default '127.0.0.1' */
  host?: string;
  /** @default 0 */
  port?: number;
  /** Initial knobs. */
  config?: Partial<ServerConfig>;
  /** How long to wait for the listening line. @default 15000 */
  startTimeoutMs?: number;
}

/** A bundled server running in a child process. */
export interface BundledServer {
  readonly info: ListeningEvent;
  /** `ws://host:port/` of the server. */
  readonly url: string;
  /** `http://host:adminPort` of its admin API. */
  readonly adminUrl: string;
  readonly child: ChildProcess;
  /** The last few KiB the server wrote on stderr (its diagnostics). */
  stderr(): string;
  /** Calls `listener` once if the server exits when nobody asked it to (a crash), with what it said. */
  onCrash(listener: (crash: ServerCrash) => void): void;
  /**
   * SIGTERM, then SIGKILL after `timeoutMs`; resolves when the process has exited and its pipes are closed. Idempotent.
   */
  stop(timeoutMs?: number): Promise<void>;
}

/** How a bundled server ended when nobody stopped it. */
export interface ServerCrash {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  /** Its last words on stderr. */
  stderr: string;
  /** One line for the event log and the summary. */
  message: string;
}

/** Raised when the server process does not come up (exit 1: nothing the user gave was wrong); `code` is stable. */
export class ServerStartError extends ExitError {
  constructor(
    message: string,
    readonly code: 'server.start' | 'server.native',
  ) {
    super(message, EXIT.error, code);
  }
}

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/** Spawns `target-server/main.ts` and resolves once it listens. */
export function startBundledServer(options: BundledServerOptions = {}): Promise<BundledServer> {
  const server = programEntry('server');
  const args = [
    ...server.execArgv,
    server.file,
    '--engine',
    options.engine ?? 'uws',
    '--host',
    options.host ?? '127.0.0.1',
    '--port',
    String(options.port ?? 0),
    // stdin is a pipe from us: when this process dies, even by SIGKILL, the server follows
    '--exit-with-stdin',
  ];
  if (options.config) args.push('--config', JSON.stringify(options.config));
  // its own process group: a terminal's Ctrl+C is the run's to handle (a graceful stop keeps
  // the server up until the fleet is down), not the server's
  const child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  child.stdin!.on('error', () => {});
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const crashListeners: Array<(crash: ServerCrash) => void> = [];
  let stopping: Promise<void> | undefined;
  child.once('close', (exitCode, signal) => {
    if (stopping) return;
    const lastWords = stderr.trim().split('\n').slice(-3).join(' | ');
    const how = signal ? `was killed by ${signal}` : `exited with code ${exitCode}`;
    const crash = {
      exitCode,
      signal,
      stderr,
      message: `the bundled server (pid ${child.pid}) ${how}${lastWords ? `: ${lastWords}` : ''}`,
    };
    for (const listener of crashListeners) listener(crash);
  });
  const stop = (timeoutMs = 3000): Promise<void> => {
    stopping ??= (async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
    })();
    return stopping;
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(
        new ServerStartError(
          `the bundled server did not start within ${options.startTimeoutMs ?? 15000} ms: ${stderr.trim()}`,
          'server.start',
        ),
      );
    }, options.startTimeoutMs ?? 15000);
    const lines = createInterface({ input: child.stdout! });
    lines.once('line', (line) => {
      clearTimeout(timer);
      let info: ListeningEvent;
      try {
        info = JSON.parse(line) as ListeningEvent;
      } catch {
        void stop();
        return reject(new ServerStartError(`the bundled server printed an unexpected line: ${line}`, 'server.start'));
      }
      const host = hostForUrl(info.host);
      resolve({
        // the admin API stays on loopback (the server's default), wherever the WebSocket port listens
        info,
        url: `ws://${host}:${info.port}/`,
        adminUrl: `http://127.0.0.1:${info.adminPort}`,
        child,
        stop,
        stderr: () => stderr,
        onCrash: (listener) => {
          crashListeners.push(listener);
        },
      });
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      const kind = code === EXIT.nativeUnavailable ? 'server.native' : 'server.start';
      reject(new ServerStartError(`the bundled server exited with code ${code}: ${stderr.trim()}`, kind));
    });
  });
}
