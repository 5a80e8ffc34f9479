import { monitorEventLoopDelay, performance, type EventLoopUtilization } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';

/** The server's own load over the last completed second; delays are beyond the sampling interval. */
export interface LoopFigures {
  delayP50Ms: number;
  delayP99Ms: number;
  delayMaxMs: number;
  utilization: number;
  userPercent: number;
  systemPercent: number;
}

/** The delay sampler's interval, ms. */
const SAMPLE_MS = 2;

// Node's histogram holds the ns between its sampling timer's callbacks, interval included:
// the delay is what is beyond the interval (an idle loop sampled every 5 ms read 5.4 ms)
function delayMs(ns: number): number {
  return Math.max(0, ns / 1e6 - SAMPLE_MS);
}

/**
 * Samples event-loop delay, utilisation and CPU once a second, so `/stats` reports the last
 * whole second rather than a window that depends on when it was asked. The delay is how late
 * the loop runs a timer, sampled every 2 ms (within 2 ms of a known block's length). Memory is
 * read when asked.
 */
export class LoopMonitor {
  private readonly delay = monitorEventLoopDelay({ resolution: SAMPLE_MS });
  private lastElu: EventLoopUtilization = performance.eventLoopUtilization();
  private lastCpu = process.cpuUsage();
  private lastAt = performance.now();
  private timer: NodeJS.Timeout | undefined;
  /** Figures of the last completed second. */
  figures: LoopFigures = {
    delayP50Ms: 0,
    delayP99Ms: 0,
    delayMaxMs: 0,
    utilization: 0,
    userPercent: 0,
    systemPercent: 0,
  };

  start(): void {
    this.delay.enable();
    this.timer = setInterval(() => this.sample(), 1000);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.delay.disable();
  }

  private sample(): void {
    const now = performance.now();
    const elapsedMs = Math.max(1, now - this.lastAt);
    const elu = performance.eventLoopUtilization(this.lastElu);
    const cpu = process.cpuUsage(this.lastCpu);
    this.figures = {
      delayP50Ms: this.delay.count > 0 ? delayMs(this.delay.percentile(50)) : 0,
      delayP99Ms: this.delay.count > 0 ? delayMs(this.delay.percentile(99)) : 0,
      delayMaxMs: this.delay.count > 0 ? delayMs(this.delay.max) : 0,
      utilization: elu.utilization,
      userPercent: (cpu.user / 1000 / elapsedMs) * 100,
      systemPercent: (cpu.system / 1000 / elapsedMs) * 100,
    };
    this.delay.reset();
    this.lastElu = performance.eventLoopUtilization();
    this.lastCpu = process.cpuUsage();
    this.lastAt = now;
  }

  private lastRss = 0;

  /** The process's memory now: RSS (the last known when it cannot be read), and V8's heap in use and reserved. */
  memory(): { rssBytes: number; heapUsedBytes: number; heapTotalBytes: number } {
    // reading RSS opens /proc/self/stat, which fails with EMFILE when the fd table is full
    try {
      this.lastRss = process.memoryUsage.rss();
    } catch {
      // keep the last known value
    }
    const { used_heap_size: heapUsedBytes, total_heap_size: heapTotalBytes } = getHeapStatistics();
    return { rssBytes: this.lastRss, heapUsedBytes, heapTotalBytes };
  }
}
