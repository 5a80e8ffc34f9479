/**
 * The one host check at the entry (`run`, `compare`, the console, the demo, an agent): what
 * this host can hold for the fleet the options describe, from the tuning module's facts and
 * plan, and the refusal when it is known to be too small. The engine gets the answer as data
 * (`hostLimit`) and imports nothing of tuning.
 */
import type { EngineOptions, HostLimit } from './engine/engine-options.ts';
import { dialSources, spreadSources } from './engine/users/sources.ts';
import { EXIT, ExitError } from '../target-server/contract/exit-codes.ts';
import { readFacts } from '../tuning/facts.ts';
import { capacityFor, portRange, type Capacity } from '../tuning/plan.ts';

/** The capacity of this host for `connections` users spread as the options say. */
export function hostCapacity(options: EngineOptions, connections: number): Capacity {
  // ports are per (source address, destination): several targets or bundled servers multiply them like addresses do
  const destinations = options.targets?.length ?? (options.target ? 1 : (options.servers ?? 1));
  // the bundled servers listen on 127.0.0.1: users dial from the loopback pool unless told otherwise
  const isBundled = options.targets === undefined && options.target === undefined;
  const urls = options.targets ?? (options.target ? [options.target] : ['ws://127.0.0.1/']);
  const sourceAddresses = Math.max(1, dialSources(urls, options.localAddresses ?? [], isBundled).length) * destinations;
  return capacityFor({ facts: readFacts(), connections, sourceAddresses, processes: options.workers ?? 1 });
}

/**
 * Loopback source addresses for a run of `peak` users against the user's own loopback server
 * when one address has too few ports for its share of a destination (sources.ts); none otherwise
 * (the bundled server has its pool, given addresses are kept, other hosts get the host's address).
 */
export function spreadFor(options: EngineOptions, peak: number): { addresses: string[]; portsPerAddress: number } {
  const urls = options.targets ?? (options.target ? [options.target] : []);
  const ports = urls.length > 0 ? portRange(readFacts()) : null;
  if (ports === null) return { addresses: [], portsPerAddress: 0 };
  return {
    addresses: spreadSources(urls, options.localAddresses ?? [], Math.ceil(peak / urls.length), ports),
    portsPerAddress: ports,
  };
}

/** The limit the engine is given, from a capacity: none when the capacity is unknown. */
export function hostLimitOf(capacity: Capacity): HostLimit | undefined {
  return Number.isFinite(capacity.capacity) && capacity.binding
    ? { capacity: capacity.capacity, binding: capacity.binding }
    : undefined;
}

/** The options with the host's limit attached, so the engine can warn before a target beyond it. */
export function withHostLimit(options: EngineOptions, capacity: Capacity = hostCapacity(options, 1)): EngineOptions {
  return { ...options, hostLimit: hostLimitOf(capacity) };
}

/**
 * The refusal of a run of `peak` users this host is known to be too small for (106), saying
 * what binds and what lifts it; null when it can hold them or cannot tell (unknown facts are
 * not a refusal). `subject` is what asks, as in "run.storm asks for 30000 VUs".
 */
export function hostRefusal(subject: string, peak: number, capacity: Capacity): ExitError | null {
  if (!capacity.isShort) return null;
  return new ExitError(
    `${subject} asks for ${peak} VUs but this host can hold ${capacity.capacity} (bound by ` +
      `${capacity.binding}); ${capacity.lift}. See \`sockstorm tune check --connections ${peak}\`, or ` +
      `pass --no-host-check to run into the wall on purpose.`,
    EXIT.host,
  );
}
