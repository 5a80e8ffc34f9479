/**
 * The target's host names, resolved once before any socket opens, and the `lookup` every
 * connection then uses: it answers those names from what was resolved, so a reconnect storm
 * asks the resolver nothing, and Host and the TLS server name stay the name. A name that does
 * not resolve (in time) is a config error naming it (exit 104): it had been thousands of users
 * each failing a lookup, counted as `handshake.timeout`, outliving the run's summary.
 *
 * The process that opens the sockets resolves for them (this one, each shard, each agent on
 * its own host, which may see other answers than the coordinator).
 */
import dns from 'node:dns';
import net from 'node:net';
import { EngineConfigError } from '../engine-options.ts';

/** How long the names may take to resolve before the run is refused. */
export const RESOLVE_DEADLINE_MS = 10_000;

/** Addresses by host name, as the resolver gave them (plain data). */
export type ResolvedHosts = Record<string, dns.LookupAddress[]>;

/** The resolver's call, as `dns.promises.lookup` with `all`. */
export type Lookup = (host: string, options: { all: true }) => Promise<dns.LookupAddress[]>;

/** The names among the URLs' hosts: not addresses, and not filled in per user (`{{row.host}}`). */
export function hostNames(urls: readonly string[]): string[] {
  const names = new Set<string>();
  for (const url of urls) {
    const host = new URL(url).hostname;
    if (net.isIP(host.replace(/^\[|\]$/g, '')) === 0 && !/%7B%7B|\{\{/i.test(host)) names.add(host);
  }
  return [...names];
}

async function resolveOne(host: string, lookup: Lookup, deadlineMs: number): Promise<dns.LookupAddress[]> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(Object.assign(new Error(`no answer within ${deadlineMs / 1000} s`), { code: 'ETIMEOUT' })),
      deadlineMs,
    );
  });
  try {
    const addresses = await Promise.race([lookup(host, { all: true }), late]);
    if (addresses.length === 0) throw Object.assign(new Error('no address'), { code: 'ENODATA' });
    return addresses;
  } catch (error) {
    const { code, message } = error as Error & { code?: string };
    throw new EngineConfigError(
      'config.dns',
      `the target's host "${host}" does not resolve ` +
        `(${code ?? message}${code === 'ETIMEOUT' ? `: ${message}` : ''}); check the name and this ` +
        `host's resolver, or give the target as an address`,
    );
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Resolves every host name of `urls` at once; throws an {@link
 * EngineConfigError} (`config.dns`) naming the first that does not resolve.
 */
export async function resolveHosts(
  urls: readonly string[],
  lookup: Lookup = dns.promises.lookup,
  deadlineMs = RESOLVE_DEADLINE_MS,
): Promise<ResolvedHosts> {
  const names = hostNames(urls);
  const answers = await Promise.all(names.map((name) => resolveOne(name, lookup, deadlineMs)));
  return Object.fromEntries(names.map((name, i) => [name, answers[i]!]));
}

/** A `lookup` for net, tls and http that answers the resolved names from `hosts`, and asks the system for any other. */
export function cachedLookup(hosts: ResolvedHosts): net.LookupFunction {
  return (hostname, options, callback) => {
    const addresses = hosts[hostname];
    if (!addresses) return dns.lookup(hostname, options, callback);
    const wanted =
      options.family === 4 || options.family === 6 ? addresses.filter((a) => a.family === options.family) : addresses;
    const all = wanted.length > 0 ? wanted : addresses;
    // answered on the next tick, as dns.lookup answers an address
    if (options.all) process.nextTick(callback, null, all);
    else process.nextTick(callback, null, all[0]!.address, all[0]!.family);
  };
}
