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

  /** Sends the fleet's options and resolves once the part's fleet exists. */
  static start(
    name: string,
    weight: number,
    channel: PartChannel,
    options: EngineOptions,
    urls: string[],
  ): Promise<RemotePart> {
    return new Promise((resolve, reject) => {
      let part: RemotePart | null = null;
      channel.onMessage((message) => {
        if (part) return;
        if (message.type === 'ready') {
          part = new RemotePart(name, weight, channel);
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
    const answer = await this.request((id) => ({ type: 'apply', id, command }), 30_000);
    return answer.type === 'result'
      ? answer.result
      : { ok: false, message: answer.type === 'failed' ? answer.message : 'unexpected answer' };
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
