/**
 * The generator's own health, sampled once a second: event-loop delay, utilisation, CPU and
 * memory. An interval is `saturated` when the delay p99 exceeds 50 ms or utilisation 0.9 (the
 * README's measurement rules): latencies measured in it say more about us than about the server.
 *
 * Event-loop delay is how late the loop runs a timer: Node's histogram records the time
 * between its sampling timer's callbacks, which includes the sampling interval itself (an idle
 * loop sampled every 5 ms reads 5.4 ms), so the interval is taken off. Sampling every 2 ms
 * keeps a known block within 2 ms of its length for about 1.5% of a core when idle.
 */
import { monitorEventLoopDelay, performance, type EventLoopUtilization } from 'node:perf_hooks';

/** Health of the last interval. */
export interface GeneratorHealth {
  /** Event-loop delay (beyond the sampling interval), ms. */
  loopDelayP50Ms: number;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
  utilization: number;
  cpuPercent: number;
  rssBytes: number;
  heapUsedBytes: number;
  /** (RSS now − RSS before the first VU) / open VUs; 0 when none are open. */
  bytesPerOpenVu: number;
  isSaturated: boolean;
}

/** When an interval is saturated: its loop delay p99 or its utilisation over these. */
export const SATURATION = { loopDelayP99Ms: 50, utilization: 0.9 } as const;

/** The event-loop delay sampler's interval, ms. */
export const LOOP_SAMPLE_MS = 2;

/** A figure of Node's delay histogram (ns between sampler callbacks) as delay beyond the interval, ms. */
export function loopDelayMs(histogramNs: number): number {
  return Math.max(0, histogramNs / 1e6 - LOOP_SAMPLE_MS);
}

/** Samples the health of this process. */
export class HealthMonitor {
  private readonly delay = monitorEventLoopDelay({ resolution: LOOP_SAMPLE_MS });
  private lastElu: EventLoopUtilization = performance.eventLoopUtilization();
  private lastCpu = process.cpuUsage();
  private lastAt = performance.now();
  readonly baselineRss = process.memoryUsage.rss();
  private lastMemory = { rss: this.baselineRss, heapUsed: 0 };

  private isStarted = false;

  start(): void {
    this.delay.enable();
    this.isStarted = true;
  }

  stop(): void {
    this.delay.disable();
    this.isStarted = false;
  }

  /** Closes the interval and returns its health. */
  sample(openVus: number): GeneratorHealth {
    const at = performance.now();
    const elapsedMs = Math.max(1, at - this.lastAt);
    const elu = performance.eventLoopUtilization(this.lastElu);
    const cpu = process.cpuUsage(this.lastCpu);
    // reading RSS opens /proc/self/stat, which fails with EMFILE when the fd table is full:
    // keep the last figure rather than crash at the very wall a probe is looking for
    let memory = this.lastMemory;
    try {
      memory = process.memoryUsage();
      this.lastMemory = memory;
    } catch {
      // keep the last known values
    }
    const hasSamples = this.delay.count > 0;
    // no timer ran in the whole interval (a sample is asked for by a message, which a loop busy
    // reading sockets still reads): the loop was late by the whole interval, not by nothing
    const stalledMs =
      this.isStarted && !hasSamples && elapsedMs > 5 * LOOP_SAMPLE_MS ? loopDelayMs(elapsedMs * 1e6) : 0;
    const loopDelayP99Ms = hasSamples ? loopDelayMs(this.delay.percentile(99)) : stalledMs;
    const health: GeneratorHealth = {
      loopDelayP50Ms: hasSamples ? loopDelayMs(this.delay.percentile(50)) : stalledMs,
      loopDelayP99Ms,
      loopDelayMaxMs: hasSamples ? loopDelayMs(this.delay.max) : stalledMs,
      utilization: elu.utilization,
      cpuPercent: ((cpu.user + cpu.system) / 1000 / elapsedMs) * 100,
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
      bytesPerOpenVu: openVus > 0 ? Math.max(0, memory.rss - this.baselineRss) / openVus : 0,
      isSaturated: loopDelayP99Ms > SATURATION.loopDelayP99Ms || elu.utilization > SATURATION.utilization,
    };
    this.delay.reset();
    this.lastElu = performance.eventLoopUtilization();
    this.lastCpu = process.cpuUsage();
    this.lastAt = at;
    return health;
  }
}
