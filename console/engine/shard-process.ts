/**
 * The coordinator's handle on one shard process: start it, send it commands and await the
 * answers, keep its latest snapshot and live counts, stop it (bounded).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { programEntry } from '../runtime.ts';
import type { EngineCommand } from './commands.ts';
import type { CommandResult, LiveCounts } from './engine-api.ts';
import type { EngineOptions } from './engine-options.ts';
import type { FromShard, ToShard } from './shard-protocol.ts';
import type { Snapshot } from './snapshot.ts';


/** One running shard. */
export class ShardProcess {
  latest: Snapshot | null = null;
  live: LiveCounts = { open: 0, target: 0, isRecovered: true, killed: 0 };
  private nextId = 0;
  private readonly pending = new Map<number, (result: CommandResult) => void>();
  private readonly exited: Promise<void>;

  private constructor(readonly index: number, private readonly child: ChildProcess) {
    this.exited = new Promise((resolve) => child.once('close', () => {
      for (const resolvePending of this.pending.values()) resolvePending({ ok: false, message: `shard ${index} exited` });
      this.pending.clear();
      resolve();
    }));
    child.on('message', (message: FromShard) => this.receive(message));
  }

  /** Forks a shard and resolves once its engine exists. */
  static start(index: number, options: EngineOptions): Promise<ShardProcess> {
    const entry = programEntry('shard');
    const child = fork(entry.file, [], { execArgv: entry.execArgv, serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const shard = new ShardProcess(index, child);
    return new Promise((resolve, reject) => {
      child.once('message', (message: FromShard) => {
        if (message.type === 'ready') {
          resolve(shard);
        } else if (message.type === 'failed') {
          child.kill();
          reject(Object.assign(new Error(`shard ${index}: ${message.message}`), { code: message.code }));
        }
      });
      child.once('exit', (code) => reject(new Error(`shard ${index} exited with code ${code} before it was ready`)));
      child.send({ type: 'init', options } satisfies ToShard);
    });
  }

  private receive(message: FromShard): void {
    if (message.type === 'snapshot' || message.type === 'stopped') {
      this.latest = message.snapshot;
    } else if (message.type === 'live') {
      this.live = { open: message.open, target: message.target, isRecovered: message.isRecovered, killed: message.killed };
    } else if (message.type === 'result') {
      this.live = message.live;
      this.pending.get(message.id)?.(message.result);
      this.pending.delete(message.id);
    }
  }

  /** Sends a command; resolves with the shard's answer. */
  dispatch(command: EngineCommand): Promise<CommandResult> {
    if (!this.child.connected) return Promise.resolve({ ok: false, message: `shard ${this.index} is gone` });
    const id = ++this.nextId;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.child.send({ type: 'command', id, command } satisfies ToShard);
    });
  }

  /** Stops the shard's fleet and waits for the process; SIGKILL after `timeoutMs`. */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (this.child.connected) this.child.send({ type: 'stop' } satisfies ToShard);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }
}
