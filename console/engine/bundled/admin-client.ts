/**
 * A client of the bundled server's admin API. Failures come back as values, never throws:
 * an experiment goes on when the admin API is unreachable, and says so.
 */
import http from 'node:http';
import type {
  BroadcastRequest,
  ServerKillMode,
  ServerConfig,
  ServerStats,
} from '../../../target-server/contract/wire.ts';

/** What a call that had no answer within its deadline says (it was sent: it may have taken effect). */
export const TIMED_OUT = 'The operation was aborted due to timeout';

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

/**
 * Talks to `http://host:adminPort` with the bearer token, over one kept-alive connection.
 * node:http rather than fetch: `/stats` is polled every second on the loop that times the
 * users' probes, and a fetch cost that loop about three times the CPU of a node:http request
 * (0.75-1.2 ms against 0.26-0.44 ms a poll on 2 busy cores; undici's Request, Response,
 * AbortSignal and streams).
 */
export class AdminClient implements AdminApi {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

  constructor(
    readonly baseUrl: string,
    private readonly token: string,
    private readonly timeoutMs = 5000,
  ) {}

  // one deadline for all of it (connect, answer, body); a failure is a value, status 0
  private call<T>(method: string, path: string, body?: unknown): Promise<AdminResult<T>> {
    return new Promise((resolve) => {
      const fail = (error: Error): void => resolve({ ok: false, status: 0, message: error.message });
      const headers = { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' };
      const req = http.request(`${this.baseUrl}${path}`, { method, headers, agent: this.agent }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', fail);
        response.on('end', () => {
          clearTimeout(timer);
          let json: Record<string, unknown> = {};
          try {
            json = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
          } catch {
            // a body that is not JSON: the status says what happened
          }
          const status = response.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve({ ok: true, value: json as T });
          else resolve({ ok: false, status, message: String(json.message ?? response.statusMessage ?? status) });
        });
      });
      // fetch's words for it, which the console's session reads as "may have taken effect"
      const timer = setTimeout(() => req.destroy(new Error(TIMED_OUT)), this.timeoutMs);
      req.on('error', (error) => {
        clearTimeout(timer);
        fail(error);
      });
      req.end(body === undefined ? undefined : JSON.stringify(body));
    });
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
