/**
 * The generator's own health, sampled once a second: event-loop delay, utilisation, CPU and
 * memory. An interval is `saturated` when the delay p99 exceeds 50 ms or utilisation 0.9
 * (DESIGN.md section 6): latencies measured in it say more about us than about the server.
 */
import { monitorEventLoopDelay, performance, type EventLoopUtilization } from 'node:perf_hooks';

/** Health of the last interval. */
export interface GeneratorHealth {
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

/** Limits of DESIGN.md section 6. */
export const SATURATION = { loopDelayP99Ms: 50, utilization: 0.9 } as const;

/** Samples the health of this process. */
export class HealthMonitor {
  private readonly delay = monitorEventLoopDelay({ resolution: 5 });
  private lastElu: EventLoopUtilization = performance.eventLoopUtilization();
  private lastCpu = process.cpuUsage();
  private lastAt = performance.now();
  readonly baselineRss = process.memoryUsage.rss();
  private lastMemory = { rss: this.baselineRss, heapUsed: 0 };

  start(): void {
    this.delay.enable();
  }

  stop(): void {
    this.delay.disable();
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
    const loopDelayP99Ms = this.delay.count > 0 ? this.delay.percentile(99) / 1e6 : 0;
    const health: GeneratorHealth = {
      loopDelayP50Ms: this.delay.count > 0 ? this.delay.percentile(50) / 1e6 : 0,
      loopDelayP99Ms,
      loopDelayMaxMs: this.delay.count > 0 ? this.delay.max / 1e6 : 0,
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
