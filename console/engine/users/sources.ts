/**
 * Which local addresses users dial from. Given `--source-addresses`, those. Against the bundled
 * server on IPv4 loopback on Linux, a pool of loopback sources: Linux routes all of 127.0.0.0/8
 * to `lo`, so they need no setup. Against any other target, the host's own address (no bind:
 * the kernel picks), because a target that limits connections per client address (nginx
 * `limit_conn` on `$binary_remote_addr`) must see what it would see from one client host: a
 * pool would hide the limit the user came to test.
 *
 * Why the pool: the kernel picks a connect's source port by walking the port range for a free
 * 4-tuple, even ports first. Past about 14,000 connections from one address to one target the
 * even half is full, and every connect walks all of it first (`__inet_hash_connect` and
 * `__inet_check_established` were a third of the host's CPU at 16,000 users in `perf`; a
 * connect cost 1.6 ms instead of 0.1). That is the generator's own work on the measured path:
 * handshake latency, recovery time, saturation. Spread over the pool, each address holds a
 * few thousand and the walk stays short; the 28k-ports-per-target wall moves too.
 *
 * A run against the user's own loopback server that asks for more users per destination than
 * one address has ports spreads over as many loopback addresses as keep each in the short half
 * of the walk ({@link spreadSources}), and says so: `run` on stderr, in the summary and JSON.
 */
import { isIPv4 } from 'node:net';

/**
 * How many loopback addresses users of the bundled server spread over when none are given: at 100,000 users, 16
 * left ~6,250 on each and bind()'s port search still a quarter of a reconnect storm in perf; 64 leave ~1,600.
 */
export const LOOPBACK_POOL = 64;

function hostOf(url: string): string {
  try {
    return new URL(url).hostname;
  } catch {
    return '';
  }
}

/** True when every URL's host is an IPv4 literal in 127.0.0.0/8. */
export function isLoopbackV4(urls: readonly string[]): boolean {
  return (
    urls.length > 0 &&
    urls.every((url) => {
      const host = hostOf(url);
      return isIPv4(host) && host.startsWith('127.');
    })
  );
}

function loopbackAddresses(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `127.0.0.${i + 1}`);
}

/**
 * The addresses users dial from: the given ones, the loopback
 * pool (the bundled server only), or none (the kernel picks).
 */
export function dialSources(
  urls: readonly string[],
  given: readonly string[],
  isBundled: boolean,
  platform: string = process.platform,
): string[] {
  if (given.length > 0) return given.slice();
  // other systems (macOS) configure only 127.0.0.1 on the loopback interface
  if (!isBundled || platform !== 'linux' || !isLoopbackV4(urls)) return [];
  return loopbackAddresses(LOOPBACK_POOL);
}

/**
 * Loopback addresses for a run against the user's own loopback server that one address cannot
 * hold: `usersPerDestination` past `portsPerAddress` (the ephemeral range) spread so each address
 * holds at most half its ports (the even half, where the kernel's port walk stays short). Empty
 * when one address holds them, when addresses were given, or when the target is not IPv4 loopback.
 */
export function spreadSources(
  urls: readonly string[],
  given: readonly string[],
  usersPerDestination: number,
  portsPerAddress: number,
  platform: string = process.platform,
): string[] {
  if (given.length > 0 || platform !== 'linux' || !isLoopbackV4(urls) || usersPerDestination <= portsPerAddress)
    return [];
  return loopbackAddresses(
    Math.min(LOOPBACK_POOL, Math.ceil(usersPerDestination / Math.max(1, Math.floor(portsPerAddress / 2)))),
  );
}

/** What a target sees of `users` spread round-robin over `addresses`: the most from any one address. */
export function usersPerAddress(users: number, addresses: number): number {
  return addresses > 0 ? Math.ceil(users / addresses) : users;
}

/** `127.0.0.1-127.0.0.64` for a run of pool addresses, or the list. */
export function namedAddresses(addresses: readonly string[]): string {
  const isRun = addresses.length > 2 && addresses.join(',') === loopbackAddresses(addresses.length).join(',');
  return isRun ? `${addresses[0]}-${addresses.at(-1)}` : addresses.join(', ');
}

/** The words for the event log: where users dial from, when it is not simply this host's address. */
export function describeSources(urls: readonly string[], given: readonly string[], isBundled: boolean): string | null {
  if (given.length > 0) {
    return (
      `users dial from ${given.length === 1 ? given[0] : `${given.length} addresses (${namedAddresses(given)})`}: ` +
      `a per-address limit on the target sees the users of each`
    );
  }
  const pool = dialSources(urls, given, isBundled);
  if (pool.length === 0) return null;
  return (
    `users dial from ${pool.length} loopback addresses (${namedAddresses(pool)}) so the kernel's ` +
    `port search stays short; --source-addresses to choose`
  );
}

/**
 * What `run` says on stderr when users of a run against the user's own server dial from chosen
 * addresses: which, why (given, or spread because one address has too few ports: `spreadPorts`),
 * and what a per-address limit on the target will see.
 */
export function sourcesNotice(addresses: readonly string[], users: number, spreadPorts: number | null): string {
  const which = addresses.length === 1 ? addresses[0] : `${addresses.length} addresses (${namedAddresses(addresses)})`;
  const why =
    spreadPorts === null
      ? '--source-addresses'
      : `${users} users to one destination need more ports than one address has (${spreadPorts}); ` +
        `--source-addresses to choose`;
  return (
    `users dial from ${which} (${why}): a per-address limit on the target sees up to ` +
    `${usersPerAddress(users, addresses.length)} users from each`
  );
}
