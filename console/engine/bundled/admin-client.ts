/**
 * A client of the bundled server's admin API. Failures come back as values, never throws:
 * an experiment goes on when the admin API is unreachable, and says so.
 */
import type {
  BroadcastRequest,
  ServerKillMode,
  ServerConfig,
  ServerStats,
} from '../../../target-server/contract/wire.ts';

/** The outcome of one admin call. */
export type AdminResult<T> = { ok: true; value: T } | { ok: false; status: number; message: string };

/** What a broadcast call answers. */
export type BroadcastAnswer = { topic: string; count: number; firstSeq: number; lastSeq: number };

/** The admin API of one bundled server, or of several behind one face. */
export interface AdminApi {
  stats(): Promise<AdminResult<ServerStats>>;
  broadcast(request: Partial<BroadcastRequest>): Promise<AdminResult<BroadcastAnswer>>;
  kill(percent: number, mode: ServerKillMode): Promise<AdminResult<{ killed: number; mode: ServerKillMode }>>;
  configure(patch: Partial<ServerConfig>): Promise<AdminResult<{ config: ServerConfig }>>;
}

/** Talks to `http://host:adminPort` with the bearer token. */
export class AdminClient implements AdminApi {
  constructor(
    readonly baseUrl: string,
    private readonly token: string,
    private readonly timeoutMs = 5000,
  ) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<AdminResult<T>> {
    try {
      const response = await fetch(`${this.baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      const json = (await response.json().catch(() => ({}))) as Record<string, unknown>;
      if (!response.ok)
        return { ok: false, status: response.status, message: String(json.message ?? response.statusText) };
      return { ok: true, value: json as T };
    } catch (error) {
      return { ok: false, status: 0, message: (error as Error).message };
    }
  }

  stats(): Promise<AdminResult<ServerStats>> {
    return this.call('GET', '/stats');
  }
  broadcast(request: Partial<BroadcastRequest>): Promise<AdminResult<BroadcastAnswer>> {
    return this.call('POST', '/broadcast', request);
  }
  kill(percent: number, mode: ServerKillMode): Promise<AdminResult<{ killed: number; mode: ServerKillMode }>> {
    return this.call('POST', '/kill', { percent, mode });
  }
  configure(patch: Partial<ServerConfig>): Promise<AdminResult<{ config: ServerConfig }>> {
    return this.call('PUT', '/config', patch);
  }
}
