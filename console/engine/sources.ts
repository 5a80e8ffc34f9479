/**
 * Which local addresses users dial from. Given `--source-addresses`, those. Otherwise, when every
 * target is an IPv4 loopback address on Linux, a pool of loopback sources: Linux routes all of
 * 127.0.0.0/8 to `lo`, so they need no setup.
 *
 * Why: the kernel picks a connect's source port by walking the port range for a free 4-tuple,
 * even ports first. Past about 14,000 connections from one address to one target the even half
 * is full, and every connect walks all of it first (`__inet_hash_connect` and
 * `__inet_check_established` were a third of the host's CPU at 16,000 users in `perf`; a
 * connect cost 1.6 ms instead of 0.1). That is the generator's own work on the measured path:
 * handshake latency, recovery time, saturation. Spread over the pool, each address holds a
 * few thousand and the walk stays short; the 28k-ports-per-target wall moves too.
 */
import { isIPv4 } from 'node:net';

/** How many loopback addresses users spread over when none are given: at 100,000 users, 16 left ~6,250 on each and bind()'s port search still a quarter of a reconnect storm in perf; 64 leave ~1,600. */
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

/** The addresses users dial from: the given ones, the loopback pool, or none (the kernel picks). */
export function dialSources(urls: readonly string[], given: readonly string[], platform: string = process.platform): string[] {
  if (given.length > 0) return given.slice();
  // other systems (macOS) configure only 127.0.0.1 on the loopback interface
  if (platform !== 'linux' || !isLoopbackV4(urls)) return [];
  return Array.from({ length: LOOPBACK_POOL }, (_, i) => `127.0.0.${i + 1}`);
}

/** The words for the log, when the pool is in use. */
export function describeSources(urls: readonly string[], given: readonly string[]): string | null {
  if (given.length > 0) return null;
  const pool = dialSources(urls, given);
  if (pool.length === 0) return null;
  return `users dial from ${pool.length} loopback addresses (${pool[0]}-${pool.at(-1)}) so the kernel's port search stays short; --source-addresses to choose`;
}
