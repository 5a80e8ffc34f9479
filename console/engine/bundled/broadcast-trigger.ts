/**
 * How a broadcast is set off: through the bundled server's admin API, through an HTTP
 * request to a real target (`--broadcast-http`), or as a frame a VU sends that the target
 * fans out (`--broadcast-send`). Each returns a plain outcome; none throws.
 */
import http from 'node:http';
import https from 'node:https';
import type { AdminApi } from './admin-client.ts';

/** One broadcast request of the `broadcast` command. */
export interface BroadcastOrder {
  topic: string;
  count: number;
  sizeBytes: number;
}

/** What a trigger did. */
export type TriggerOutcome =
  | { ok: true; firstSeq: number | null; lastSeq: number | null }
  | { ok: false; message: string };

/** A way to set off broadcasts. */
export interface BroadcastTrigger {
  readonly kind: 'admin' | 'http' | 'send';
  fire(order: BroadcastOrder): Promise<TriggerOutcome>;
}

/**
 * `broadcast N every D`: fires one message now and one every `everyMs` until `count` have
 * gone; the timers are kept in `timers` so a stop can cancel what is left.
 */
export function fireEvery(
  count: number,
  everyMs: number,
  timers: Set<NodeJS.Timeout>,
  fireOne: () => Promise<unknown>,
): void {
  let sent = 0;
  const next = (): void => {
    void fireOne();
    if (++sent < count) {
      const timer = setTimeout(() => {
        timers.delete(timer);
        next();
      }, everyMs);
      timers.add(timer);
    }
  };
  next();
}

/** A template's placeholder, `{{name}}` or `{{row.NAME}}`: the one pattern every template is filled by. */
export const TEMPLATE_PLACEHOLDER = /\{\{(\w+(?:\.[\w-]+)?)\}\}/g;

/** Fills `{{n}}`, `{{topic}}`, `{{size}}` and `{{now}}` in a template. */
export function renderTemplate(template: string, values: Record<string, string | number>): string {
  return template.replace(TEMPLATE_PLACEHOLDER, (match, key: string) => (key in values ? String(values[key]) : match));
}

/** Through the bundled server's admin API; seqs come back, so loss is exact. */
export function adminTrigger(admin: AdminApi): BroadcastTrigger {
  return {
    kind: 'admin',
    async fire(order) {
      const result = await admin.broadcast({ topic: order.topic, count: order.count, size: order.sizeBytes });
      if (!result.ok) return { ok: false, message: `admin broadcast failed: ${result.message}` };
      return { ok: true, firstSeq: result.value.firstSeq, lastSeq: result.value.lastSeq };
    },
  };
}

/** How much of an answer's body is read (and dropped); past it the status alone is the answer. */
export const MAX_ANSWER_BYTES = 1024 * 1024;

/**
 * One request with one deadline for all of it (connect, answer, body), its body drained and
 * not kept, and aborted with `signal`; rejects with the socket's own error (`connect
 * ECONNREFUSED 127.0.0.1:8080`). A deadline per request, not an idle timeout: a target that
 * dripped its body a byte at a time had kept a 3 s script running for 13.5 minutes. node:http
 * rather than fetch: fetch refuses ports browsers block (6000, 6665-6669, 10080 ...) and hides
 * every cause behind "fetch failed".
 */
function request(
  method: string,
  url: URL,
  body: string | undefined,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === 'https:' ? https.request : http.request;
    let status: number | null = null;
    // the deadline's or the stop's words, whichever of the request and its answer says it first
    let failure: Error | null = null;
    const fail = (error: Error): void =>
      reject(failure ?? (signal?.aborted ? new Error('the run stopped before it was answered') : error));
    const req = send(
      url,
      {
        method,
        signal,
        headers:
          body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (response) => {
        status = response.statusCode ?? 0;
        let bytes = 0;
        response.on('data', (chunk: Buffer) => {
          bytes += chunk.length;
          if (bytes <= MAX_ANSWER_BYTES) return;
          resolve(status!);
          req.destroy();
        });
        response.once('end', () => resolve(status!));
        response.once('error', fail);
      },
    );
    const deadline = setTimeout(() => {
      failure = new Error(
        status === null
          ? `no answer within ${timeoutMs} ms`
          : `answered HTTP ${status}, but its body did not end within ${timeoutMs} ms`,
      );
      req.destroy(failure);
    }, timeoutMs);
    req.once('close', () => clearTimeout(deadline));
    req.once('error', fail);
    req.end(body);
  });
}

/**
 * Through an HTTP request, `METHOD URL [BODY]`, once per message;
 * `signal` aborts every request in flight (the run's stop).
 */
export function httpTrigger(spec: string, timeoutMs = 5000, signal?: AbortSignal): BroadcastTrigger {
  const [method, target, ...body] = spec.trim().split(/\s+/);
  const bodyTemplate = body.join(' ');
  let url: URL | null = null;
  try {
    url = new URL(target ?? '');
  } catch {
    // said at the first broadcast, as every other failure of the trigger
  }
  let n = 0;
  return {
    kind: 'http',
    async fire(order) {
      if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:'))
        return { ok: false, message: `broadcast request failed: ${target} is not an http:// or https:// URL` };
      for (let i = 0; i < order.count; i++) {
        const values = { n: ++n, topic: order.topic, size: order.sizeBytes, now: Date.now() };
        try {
          const status = await request(
            method!,
            url,
            bodyTemplate && method !== 'GET' ? renderTemplate(bodyTemplate, values) : undefined,
            timeoutMs,
            signal,
          );
          if (status < 200 || status > 299) return { ok: false, message: `broadcast request answered HTTP ${status}` };
        } catch (error) {
          return { ok: false, message: `broadcast request failed: ${(error as Error).message}` };
        }
      }
      return { ok: true, firstSeq: null, lastSeq: null };
    },
  };
}

/** As frames an open VU sends; `pickSender` returns one, or null when none is open. */
export function sendTrigger(
  template: string,
  pickSender: () => { send(text: string): number } | null,
): BroadcastTrigger {
  let n = 0;
  return {
    kind: 'send',
    async fire(order) {
      const sender = pickSender();
      if (!sender) return { ok: false, message: 'no open VU to send the broadcast from' };
      const pad = 'x'.repeat(order.sizeBytes);
      let dropped = 0;
      for (let i = 0; i < order.count; i++) {
        if (
          sender.send(
            renderTemplate(template, { n: ++n, topic: order.topic, size: order.sizeBytes, now: Date.now(), pad }),
          ) === 0
        )
          dropped++;
      }
      if (dropped > 0)
        return {
          ok: false,
          message:
            `${dropped} of ${order.count} broadcast frames dropped: the sending user held its send buffer ` +
            `unsent (send.dropped)`,
        };
      return { ok: true, firstSeq: null, lastSeq: null };
    },
  };
}
