/** CPU times from /proc, for the benches that say where a host's cores went. */
import { readFileSync } from 'node:fs';

const TICK = 100; // clock ticks per second of /proc's CPU times (USER_HZ)

/** The CPU seconds a process has used (user + system), 0 once it is gone. */
export function cpuOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / TICK;
  } catch {
    return 0;
  }
}

/** The host's busy and total CPU seconds over all cores, from /proc/stat. */
export function hostCpu(): { busy: number; total: number } {
  const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = fields.map(Number) as number[];
  const busy = user! + nice! + system! + irq! + softirq! + steal!;
  return { busy: busy / TICK, total: (busy + idle! + iowait!) / TICK };
}
