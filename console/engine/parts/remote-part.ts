/**
 * A fleet part in another process (a shard, an agent), driven through a {@link PartChannel}:
 * commands and samples are requests with answers, live counts arrive ten times a second. A
 * channel that closes while the run goes on makes the part lost, once.
 */
import { EngineConfigError, type EngineOptions } from '../engine-options.ts';
import type { CommandResult, FleetPart, LiveCounts, PartCommand, PartSample } from './fleet-part.ts';
import type { EncodedHistograms } from '../measure/metrics.ts';
import type { FromPart, PartChannel } from './part-protocol.ts';

/** How long a sample may take before the shell goes on without it. */
const SAMPLE_TIMEOUT_MS = 2500;
/** How long a part may take to start its fleet. */
const START_TIMEOUT_MS = 30_000;
/** Users rows past this many bytes (as JSON) go ahead of their command in `rows` messages of about this size. */
export const ROWS_CHUNK_BYTES = 4 * 1024 * 1024;
/** The largest row sent at all: an agent takes frames of 64 MiB, and a row is sent whole. */
export const MAX_ROW_BYTES = 32 * 1024 * 1024;

/** One part over a channel. */
export class RemotePart implements FleetPart {
  onLost?: (reason: string) => void;
  private latestLive: LiveCounts = { open: 0, target: 0, isRecovered: true, killed: 0 };
  private latestSample: PartSample | null = null;
  private nextId = 0;
  private readonly pending = new Map<number, (message: FromPart) => void>();
  private isStopping = false;
  private finalSample: PartSample | null = null;
  private lostReason: string | null = null;
  private readonly closed: Promise<void>;

  private constructor(
    readonly name: string,
    readonly weight: number,
    private readonly channel: PartChannel,
    readonly address?: string,
  ) {
    this.closed = new Promise((resolve) =>
      channel.onClose((reason) => {
        this.lostReason = reason;
        for (const answer of this.pending.values()) answer({ type: 'failed', message: `${name}: ${reason}` });
        this.pending.clear();
        if (!this.isStopping) this.onLost?.(reason);
        resolve();
      }),
    );
    channel.onMessage((message) => this.receive(message));
  }

  /** Sends the fleet's options and resolves once the part's fleet exists; `address` is where it is (an agent's peer address, a shard's pid). */
  static start(
    name: string,
    weight: number,
    channel: PartChannel,
    options: EngineOptions,
    urls: string[],
    address?: string,
  ): Promise<RemotePart> {
    return new Promise((resolve, reject) => {
      let part: RemotePart | null = null;
      channel.onMessage((message) => {
        if (part) return;
        if (message.type === 'ready') {
          part = new RemotePart(name, weight, channel, address);
          resolve(part);
        } else if (message.type === 'failed') {
          void channel.close(0);
          // a part that refuses its options (a target host its resolver does not know) refuses the run's (104)
          const code = message.code;
          const isConfig = code === 'config.url' || code === 'config.option' || code === 'config.dns';
          reject(
            isConfig
              ? new EngineConfigError(code, `${name}: ${message.message}`)
              : Object.assign(new Error(`${name}: ${message.message}`), { code }),
          );
        }
      });
      channel.onClose((reason) => {
        clearTimeout(timer);
        if (!part) reject(new Error(`${name} ended before it was ready: ${reason}`));
      });
      // a part that never answers must not hang the run's start
      const timer = setTimeout(() => {
        if (part) return;
        void channel.close(0);
        reject(new Error(`${name} did not start its fleet within ${START_TIMEOUT_MS / 1000} s`));
      }, START_TIMEOUT_MS);
      // answered either way (or gone): the timer must not hold a refused run open for its 30 s
      channel.onMessage((message) => {
        if (part || message.type === 'failed') clearTimeout(timer);
      });
      channel.send({ type: 'init', options, urls, name, isDetailed: true });
    });
  }

  get isLost(): boolean {
    return this.lostReason !== null && !this.isStopping;
  }

  private receive(message: FromPart): void {
    if (message.type === 'live') {
      const { type: _, ...live } = message;
      this.latestLive = live;
    } else if (message.type === 'result' || message.type === 'sample') {
      this.latestLive = message.live;
      this.pending.get(message.id)?.(message);
      this.pending.delete(message.id);
    }
  }

  private request(make: (id: number) => Parameters<PartChannel['send']>[0], timeoutMs: number): Promise<FromPart> {
    if (this.lostReason !== null)
      return Promise.resolve({ type: 'failed', message: `${this.name} is gone (${this.lostReason})` });
    const id = ++this.nextId;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        resolve({ type: 'failed', message: `${this.name} did not answer within ${timeoutMs} ms` });
      }, timeoutMs);
      this.pending.set(id, (message) => {
        clearTimeout(timer);
        resolve(message);
      });
      this.channel.send(make(id));
    });
  }

  async apply(command: PartCommand): Promise<CommandResult> {
    if (command.type === 'users') {
      const chunked = this.sendRows(command.file, command.rows);
      if (typeof chunked === 'string') return { ok: false, message: chunked };
      if (chunked) command = { type: 'users', file: command.file, rows: [], isChunked: true };
    }
    const answer = await this.request((id) => ({ type: 'apply', id, command }), 30_000);
    return answer.type === 'result'
      ? answer.result
      : { ok: false, message: answer.type === 'failed' ? answer.message : 'unexpected answer' };
  }

  /**
   * Sends a users file's rows ahead of their command when they are too many for one frame (a
   * 64 MiB file was a bare "1009" at the agent); true when it did, or why a row cannot be sent.
   */
  private sendRows(file: string, rows: Array<Record<string, string>>): boolean | string {
    const sizes = rows.map((row) => JSON.stringify(row).length);
    const largest = sizes.reduce((a, b) => Math.max(a, b), 0);
    if (largest > MAX_ROW_BYTES)
      return `a row of ${file} is ${Math.ceil(largest / 1024 / 1024)} MiB as JSON: rows reach ${this.name} whole, at most ${MAX_ROW_BYTES / 1024 / 1024} MiB each`;
    if (sizes.reduce((a, b) => a + b, 0) <= ROWS_CHUNK_BYTES) return false;
    let from = 0;
    let bytes = 0;
    for (let i = 0; i < rows.length; i++) {
      bytes += sizes[i]!;
      if (bytes < ROWS_CHUNK_BYTES && i < rows.length - 1) continue;
      this.channel.send({ type: 'rows', rows: rows.slice(from, i + 1) });
      from = i + 1;
      bytes = 0;
    }
    return true;
  }

  async sample(isMeasured: boolean): Promise<PartSample> {
    // a stopped part's last word is the sample it sent when it stopped
    if (this.finalSample) return this.finalSample;
    const answer = await this.request((id) => ({ type: 'sample', id, isMeasured }), SAMPLE_TIMEOUT_MS);
    if (answer.type === 'sample') {
      this.latestSample = answer.sample;
      return answer.sample;
    }
    if (!this.latestSample) throw new Error(answer.type === 'failed' ? answer.message : `${this.name}: no sample`);
    // late or gone: its counts as last seen, and nothing for this interval (the next sample holds it)
    const last = this.latestSample;
    const empty = { count: 0, p50: 0, p90: 0, p99: 0, max: 0, mean: 0 };
    return {
      ...last,
      interval: { connect: empty, rtt: empty, fanout: empty, reconnect: empty },
      settled: [],
      events: [],
      ...(last.histograms
        ? {
            histograms: {
              ...last.histograms,
              interval: {
                connect: { sumUs: 0, counts: [] },
                rtt: { sumUs: 0, counts: [] },
                fanout: { sumUs: 0, counts: [] },
                reconnect: { sumUs: 0, counts: [] },
              },
            },
          }
        : {}),
    };
  }

  live(): LiveCounts {
    return this.lostReason !== null
      ? { open: 0, target: 0, isRecovered: true, killed: this.latestLive.killed }
      : this.latestLive;
  }

  histograms(): EncodedHistograms['total'] | null {
    return this.latestSample?.histograms?.total ?? null;
  }

  /** The part's last sample, for what a lost part had (its open users). */
  get last(): PartSample | null {
    return this.latestSample;
  }

  async stop(timeoutMs = 10_000): Promise<void> {
    this.isStopping = true;
    if (this.lostReason === null) {
      this.channel.send({ type: 'stop' });
      const stopped = new Promise<void>((resolve) => {
        this.channel.onMessage((message) => {
          if (message.type !== 'stopped') return;
          if (message.sample) this.finalSample = this.latestSample = message.sample;
          resolve();
        });
        setTimeout(resolve, timeoutMs).unref();
      });
      await Promise.race([stopped, this.closed]);
    }
    await this.channel.close(1000);
  }
}
