/**
 * The admin HTTP API on its own port: `GET /healthz`, `GET /stats`, `POST /broadcast`,
 * `POST /kill`, `PUT /config`. Every route needs `Authorization: Bearer <token>`; bodies are
 * JSON of at most 64 KiB; errors answer `{"error":CODE,"field"?,"message"}`.
 */
import http from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { validateBroadcast, validateConfigPatch, validateKill, type Validated } from './protocol.ts';
import type { ServerHub } from './server-hub.ts';
import type { ServerEngine } from './server-engine.ts';

const MAX_BODY_BYTES = 64 * 1024;

type Reply = [status: number, body: unknown];

function isAuthorized(header: string | undefined, token: string): boolean {
  const expected = Buffer.from(`Bearer ${token}`);
  const given = Buffer.from(header ?? '');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function readJson(req: http.IncomingMessage): Promise<{ ok: true; value: unknown } | { ok: false; reply: Reply }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('error', () => resolve({ ok: false, reply: [400, { error: 'bad-request', message: 'request body could not be read' }] }));
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) {
        return resolve({ ok: false, reply: [413, { error: 'too-large', message: `body over ${MAX_BODY_BYTES} bytes` }] });
      }
      const text = Buffer.concat(chunks).toString('utf8');
      try {
        resolve({ ok: true, value: text.trim() === '' ? {} : JSON.parse(text) });
      } catch {
        resolve({ ok: false, reply: [400, { error: 'bad-json', message: 'body is not valid JSON' }] });
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

  async function route(req: http.IncomingMessage): Promise<Reply> {
    if (!isAuthorized(req.headers.authorization, token)) {
      return [401, { error: 'unauthorized', message: 'send Authorization: Bearer <token> (printed at start)' }];
    }
    const path = new URL(req.url ?? '/', 'http://admin').pathname;
    const key = `${req.method} ${path}`;
    if (key === 'GET /healthz') return [200, { ok: true }];
    if (key === 'GET /stats') return [200, hub.stats()];
    if (key !== 'POST /broadcast' && key !== 'POST /kill' && key !== 'PUT /config') {
      return [404, { error: 'not-found', message: `no route ${key}` }];
    }
    const body = await readJson(req);
    if (!body.ok) return body.reply;
    if (key === 'POST /broadcast') {
      const request = validateBroadcast(body.value);
      if (!request.ok) return invalid(request)!;
      return [200, { topic: request.value.topic, count: request.value.count, ...hub.broadcast(request.value, timers) }];
    }
    if (key === 'POST /kill') {
      const request = validateKill(body.value);
      if (!request.ok) return invalid(request)!;
      return [200, { killed: hub.kill(request.value.percent, request.value.mode), mode: request.value.mode }];
    }
    const patch = validateConfigPatch(body.value);
    if (!patch.ok) return invalid(patch)!;
    Object.assign(hub.config, patch.value);
    engine.applyConfig(patch.value);
    return [200, { config: hub.config }];
  }

  const server = http.createServer((req, res) => {
    route(req)
      .catch((error: Error): Reply => [500, { error: 'internal', message: error.message }])
      .then(([status, body]) => {
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      });
  });
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
