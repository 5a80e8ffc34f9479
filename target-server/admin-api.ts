/**
 * The admin HTTP API on its own port: `GET /healthz`, `GET /stats`, `POST /broadcast`,
 * `POST /kill`, `PUT /config`. Every route needs `Authorization: Bearer <token>`; bodies are
 * JSON of at most 64 KiB, read within 5 s; errors answer `{"error":CODE,"field"?,"message"}`.
 * A body over the limit is refused as soon as it is known to be (from its length, or when the
 * limit is crossed), without reading the rest.
 */
import http from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import {
  BROADCAST_LIMITS,
  validateBroadcast,
  validateConfigPatch,
  validateKill,
  type ServerStats,
  type Validated,
} from './contract/wire.ts';
import type { ServerHub } from './server-hub.ts';
import { ConfigRefusedError, type ServerEngine } from './server-engine.ts';

const MAX_BODY_BYTES = 64 * 1024;
const BODY_TIMEOUT_MS = 5000;

type Reply = [status: number, body: unknown];

function isAuthorized(header: string | undefined, token: string): boolean {
  const expected = Buffer.from(`Bearer ${token}`);
  const given = Buffer.from(header ?? '');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

const TOO_LARGE: Reply = [413, { error: 'too-large', message: `body over ${MAX_BODY_BYTES} bytes` }];

function readJson(req: http.IncomingMessage): Promise<{ ok: true; value: unknown } | { ok: false; reply: Reply }> {
  if (Number(req.headers['content-length'] ?? 0) > MAX_BODY_BYTES)
    return Promise.resolve({ ok: false, reply: TOO_LARGE });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (outcome: { ok: true; value: unknown } | { ok: false; reply: Reply }): void => {
      clearTimeout(timer);
      req.removeAllListeners('data');
      resolve(outcome);
    };
    const timer = setTimeout(
      () =>
        finish({
          ok: false,
          reply: [408, { error: 'timeout', message: `the body did not arrive within ${BODY_TIMEOUT_MS} ms` }],
        }),
      BODY_TIMEOUT_MS,
    );
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) return finish({ ok: false, reply: TOO_LARGE });
      chunks.push(chunk);
    });
    req.on('error', () =>
      finish({ ok: false, reply: [400, { error: 'bad-request', message: 'request body could not be read' }] }),
    );
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      try {
        finish({ ok: true, value: text.trim() === '' ? {} : JSON.parse(text) });
      } catch {
        finish({ ok: false, reply: [400, { error: 'bad-json', message: 'body is not valid JSON' }] });
      }
    });
  });
}

function invalid<T>(result: Validated<T>): Reply | null {
  return result.ok ? null : [400, { error: 'invalid', field: result.field, message: result.message }];
}

/** Starts the admin server; resolves with it once listening. */
export function startAdminApi(options: {
  hub: ServerHub;
  engine: ServerEngine;
  host: string;
  port: number;
  token: string;
}): Promise<http.Server> {
  const { hub, engine, token } = options;
  const timers = new Set<NodeJS.Timeout>();
  const counts: ServerStats['admin'] = { requests: 0, refused: {} };

  async function broadcast(body: unknown): Promise<Reply> {
    const request = validateBroadcast(body);
    if (!request.ok) return invalid(request)!;
    const { count, intervalMs } = request.value;
    if (intervalMs <= 0 && hub.backlogSize + count > BROADCAST_LIMITS.maxBacklog) {
      return [
        429,
        {
          error: 'busy',
          message:
            `${hub.backlogSize} broadcast messages are still queued; at most ${BROADCAST_LIMITS.maxBacklog} ` +
            `may wait`,
        },
      ];
    }
    if (intervalMs > 0 && count > 1 && timers.size >= BROADCAST_LIMITS.maxScheduled) {
      return [
        429,
        {
          error: 'busy',
          message: `${timers.size} scheduled broadcasts are running; at most ${BROADCAST_LIMITS.maxScheduled} at once`,
        },
      ];
    }
    return [200, { topic: request.value.topic, count, ...hub.broadcast(request.value, timers) }];
  }

  async function configure(body: unknown): Promise<Reply> {
    const patch = validateConfigPatch(body);
    if (!patch.ok) return invalid(patch)!;
    try {
      await engine.applyConfig(patch.value);
    } catch (error) {
      if (!(error instanceof ConfigRefusedError)) throw error;
      return [error.status, { error: 'refused', field: error.field, message: error.message }];
    }
    Object.assign(hub.config, patch.value);
    return [200, { config: hub.config }];
  }

  async function route(req: http.IncomingMessage): Promise<Reply> {
    if (!isAuthorized(req.headers.authorization, token)) {
      return [401, { error: 'unauthorized', message: 'send Authorization: Bearer <token> (printed at start)' }];
    }
    const path = new URL(req.url ?? '/', 'http://admin').pathname;
    const key = `${req.method} ${path}`;
    if (key === 'GET /healthz') {
      return engine.isListening
        ? [200, { ok: true, listening: true }]
        : [503, { ok: false, listening: false, message: 'the WebSocket listener is down' }];
    }
    if (key === 'GET /stats') return [200, hub.stats({ requests: counts.requests, refused: { ...counts.refused } })];
    if (key !== 'POST /broadcast' && key !== 'POST /kill' && key !== 'PUT /config') {
      return [404, { error: 'not-found', message: `no route ${key}` }];
    }
    const body = await readJson(req);
    if (!body.ok) return body.reply;
    if (key === 'POST /broadcast') return broadcast(body.value);
    if (key === 'POST /kill') {
      const request = validateKill(body.value);
      if (!request.ok) return invalid(request)!;
      return [200, { killed: hub.kill(request.value.percent, request.value.mode), mode: request.value.mode }];
    }
    return configure(body.value);
  }

  const server = http.createServer(
    { connectionsCheckingInterval: 1000, headersTimeout: BODY_TIMEOUT_MS, requestTimeout: 2 * BODY_TIMEOUT_MS },
    (req, res) => {
      counts.requests++;
      route(req)
        .catch((error: Error): Reply => [500, { error: 'internal', message: error.message }])
        .then(([status, body]) => {
          if (status >= 400) counts.refused[status] = (counts.refused[status] ?? 0) + 1;
          // a refused body may still be arriving: answer, then close instead of reading it
          const isCut = status === 413 || status === 408;
          res
            .writeHead(status, { 'content-type': 'application/json', ...(isCut ? { connection: 'close' } : {}) })
            .end(JSON.stringify(body));
          if (isCut) res.once('finish', () => req.socket.destroySoon());
        });
    },
  );
  server.on('close', () => {
    for (const timer of timers) clearTimeout(timer);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: options.host, port: options.port, exclusive: true }, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}
