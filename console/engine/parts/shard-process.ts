/**
 * Shard processes (`--workers N`): each one a fork running `shard-main.ts`, reached over
 * Node IPC as a {@link RemotePart}. Stopping one waits for its exit, SIGKILL after a grace.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { programEntry } from '../../runtime.ts';
import type { EngineOptions } from '../engine-options.ts';
import { readFromPart } from './part-messages.ts';
import type { FromPart, PartChannel, ToPart } from './part-protocol.ts';
import { RemotePart } from './remote-part.ts';

function ipcChannel(child: ChildProcess): PartChannel {
  // 'exit', not 'close': after the parent disconnects IPC, 'close' may never come
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const listeners: Array<(message: FromPart) => void> = [];
  let badReason: string | null = null;
  // checked once, whoever listens: a shard that sends what it should not is ended, with the reason
  child.on('message', (message: unknown) => {
    if (badReason !== null) return;
    const checked = readFromPart(message);
    if (!checked.ok) {
      badReason = `it sent a bad message (${checked.reason})`;
      child.kill('SIGKILL');
      return;
    }
    for (const listener of listeners.slice()) listener(checked.message);
  });
  return {
    send: (message: ToPart) => {
      if (child.connected) child.send(message);
    },
    onMessage: (listener) => {
      listeners.push(listener);
    },
    onClose: (listener) => {
      child.once('exit', (code, signal) =>
        listener(
          badReason ?? (signal ? `the process was killed by ${signal}` : `the process exited with code ${code}`),
        ),
      );
    },
    async close(graceMs) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      if (child.connected) child.disconnect();
      const timer = setTimeout(() => child.kill('SIGKILL'), Math.max(graceMs, 1000));
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Forks shard `index` and resolves once its fleet exists. */
export function startShard(index: number, options: EngineOptions, urls: string[]): Promise<RemotePart> {
  const entry = programEntry('shard');
  const child = fork(entry.file, [], {
    execArgv: entry.execArgv,
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return RemotePart.start(`shard ${index}`, 1, ipcChannel(child), options, urls, `pid ${child.pid}`);
}
