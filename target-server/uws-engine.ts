/**
 * The uWebSockets.js engine: C++ pub/sub fan-out. This is the only module that imports uWS.
 *
 * The npm build we depend on silently falls back to a slow pure-JS server when its native
 * binary does not load. We load the binary for this platform and ABI directly instead, so a
 * missing binary is an error we report (naming `--engine ws`), never a silent slowdown.
 *
 * uWS fixes a route's behaviour (frame limit, idle timeout, compression, backpressure) when
 * the route is registered, and one App cannot register a route twice. A live change of those
 * knobs therefore builds a new App and moves the listening port to it. That move only works
 * while no socket holds the port (uWS binds without SO_REUSEADDR: one open connection, or one
 * in TIME_WAIT, makes the new bind fail), so the change is refused, with the old listener
 * intact, whenever one does; and if the move still fails, `isListening` says so.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type * as Uws from 'uWebSockets.js';
import { parseTopicsParam, type ServerConfig } from './contract/wire.ts';
import type { SendStatus, ServerConn, ServerHub } from './server-hub.ts';
import { ConfigRefusedError, type ServerEngine } from './server-engine.ts';

type UwsModule = typeof Uws;

/**
 * Loads the native uWS binary for this platform and Node ABI, or explains why it cannot.
 * `SOCKSTORM_UWS_BINARY` names another file (to check the refusal path).
 */
export function loadNativeUws(): { ok: true; uws: UwsModule } | { ok: false; reason: string } {
  const require = createRequire(import.meta.url);
  const file =
    process.env.SOCKSTORM_UWS_BINARY ??
    `uWebSockets.js/binaries/uws_${process.platform}_${process.arch}_${process.versions.modules}.node`;
  try {
    return { ok: true, uws: require(file) as UwsModule };
  } catch (error) {
    return {
      ok: false,
      reason: `the native uWebSockets.js binary did not load (${file}): ${(error as Error).message.split('\n')[0]}`,
    };
  }
}

interface UserData {
  topics: string[];
  conn?: UwsConn;
}

// uWS closes a protocol offender at once with code 1006 and a reason such as "Received too
// big message" or "Received invalid UTF-8"; a peer's own close frame may carry 1002/1007/1009.
const BAD_FRAME_CLOSE_CODES = new Set([1002, 1007, 1009]);
const BAD_FRAME_REASON = /too big|invalid|protocol/i;

function isBadFrameClose(code: number, reason: ArrayBuffer): boolean {
  if (BAD_FRAME_CLOSE_CODES.has(code)) return true;
  return code === 1006 && BAD_FRAME_REASON.test(Buffer.from(reason).toString('utf8'));
}

class UwsConn implements ServerConn {
  readonly topics = new Set<string>();
  isClosed = false;
  /** The server ended it (a kill or shutdown): its close is not a backpressure close. */
  isEnded = false;
  /** A send was dropped for backpressure: uWS closes it (closeOnBackpressureLimit). */
  isOverLimit = false;
  constructor(private readonly ws: Uws.WebSocket<UserData>) {}

  send(frame: string | Uint8Array, isBinary: boolean): SendStatus {
    if (this.isClosed) return 'closed';
    if (this.ws.send(frame, isBinary) !== 2) return 'ok';
    this.isOverLimit = true;
    return 'dropped';
  }
  subscribe(topic: string): void {
    if (!this.isClosed) this.ws.subscribe(topic);
  }
  unsubscribe(topic: string): void {
    if (!this.isClosed) this.ws.unsubscribe(topic);
  }
  end(code: number, reason: string): void {
    this.isEnded = true;
    if (!this.isClosed) this.ws.end(code, reason);
  }
  reset(): void {
    this.isEnded = true;
    if (!this.isClosed) this.ws.close();
  }
}

const STRUCTURAL = ['maxPayload', 'idleTimeout', 'compression', 'maxBackpressure'] as const;
const TCP_LISTEN = '0A';

/** Sockets other than listeners bound to a local TCP port (from /proc/net), or null when unknown. */
function socketsOnPort(port: number): number | null {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')} `;
  let count = 0;
  let isKnown = false;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    isKnown = true;
    for (const line of text.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length > 3 && `${fields[1]} `.includes(hex) && fields[3] !== TCP_LISTEN) count++;
    }
  }
  return isKnown ? count : null;
}

type ListenCallback = (socket: Uws.us_listen_socket | false) => void;

// The typings lack the (host, port, options, cb) overload that the binary has; without it an
// exclusive port could only be had on every interface, and the server must stay on loopback.
function listenExclusive(uws: UwsModule, app: Uws.TemplatedApp, host: string, port: number, cb: ListenCallback): void {
  const exclusive = (uws as unknown as { LIBUS_LISTEN_EXCLUSIVE_PORT: number }).LIBUS_LISTEN_EXCLUSIVE_PORT;
  (app.listen as unknown as (h: string, p: number, o: number, c: ListenCallback) => void)(host, port, exclusive, cb);
}

function compressionOf(uws: UwsModule, isOn: boolean): number {
  return isOn ? uws.SHARED_COMPRESSOR : uws.DISABLED;
}

/** The uWS engine over one or more Apps (one per behaviour generation). */
export class UwsEngine implements ServerEngine {
  readonly name = 'uws' as const;
  readonly isNative = true;
  private readonly apps: Uws.TemplatedApp[] = [];
  private listenSocket: Uws.us_listen_socket | null = null;
  private host = '127.0.0.1';
  private port = 0;

  constructor(
    private readonly uws: UwsModule,
    private readonly hub: ServerHub,
  ) {}

  private createApp(): Uws.TemplatedApp {
    const { hub, uws } = this;
    const config = hub.config;
    const app = uws.App();
    app.ws<UserData>('/*', {
      maxPayloadLength: config.maxPayload,
      idleTimeout: config.idleTimeout,
      compression: compressionOf(uws, config.compression),
      maxBackpressure: config.maxBackpressure,
      closeOnBackpressureLimit: 1,
      upgrade: (res, req, context) => this.upgrade(res, req, context),
      open: (ws) => {
        const data = ws.getUserData();
        data.conn = new UwsConn(ws);
        hub.onOpen(data.conn, data.topics);
      },
      message: (ws, message, isBinary) => hub.onMessage(ws.getUserData().conn!, new Uint8Array(message), isBinary),
      close: (ws, code, reason) => {
        const conn = ws.getUserData().conn;
        if (!conn) return;
        conn.isClosed = true;
        if (isBadFrameClose(code, reason)) hub.countBadFrame();
        else if (this.isBackpressureClose(conn, code, reason)) hub.countBackpressureClose();
        hub.onClose(conn);
      },
    });
    app.any('/*', (res) => {
      res.writeStatus('426 Upgrade Required').end('this endpoint speaks WebSocket only');
    });
    this.apps.push(app);
    return app;
  }

  private upgrade(res: Uws.HttpResponse, req: Uws.HttpRequest, context: Uws.us_socket_context_t): void {
    if (this.hub.shouldReject()) {
      res.writeStatus('503 Service Unavailable').end('upgrade refused (rejectPercent)');
      return;
    }
    const key = req.getHeader('sec-websocket-key');
    const protocol = req.getHeader('sec-websocket-protocol');
    const extensions = req.getHeader('sec-websocket-extensions');
    let topics: string[] = [];
    try {
      topics = parseTopicsParam(decodeURIComponent(req.getQuery('topics') ?? ''));
    } catch {
      // a malformed query subscribes to nothing rather than failing the upgrade
    }
    const delayMs = this.hub.config.acceptDelayMs;
    if (delayMs <= 0) {
      res.upgrade<UserData>({ topics }, key, protocol, extensions, context);
      return;
    }
    let isAborted = false;
    res.onAborted(() => {
      isAborted = true;
    });
    setTimeout(() => {
      if (!isAborted) res.cork(() => res.upgrade<UserData>({ topics }, key, protocol, extensions, context));
    }, delayMs);
  }

  listen(host: string, port: number): Promise<number> {
    this.host = host;
    const app = this.createApp();
    return new Promise((resolve, reject) => {
      listenExclusive(this.uws, app, host, port, (socket) => {
        if (!socket)
          return reject(
            Object.assign(new Error(`cannot listen on ${host}:${port} (in use or not allowed)`), {
              code: 'EADDRINUSE',
            }),
          );
        this.listenSocket = socket;
        this.port = this.uws.us_socket_local_port(socket as unknown as Uws.us_socket);
        resolve(this.port);
      });
    });
  }

  // uWS closes a subscriber over its backpressure limit while it drains a publish, after
  // publish() returned and before the next turn of the loop, with 1006 and no reason; no
  // other close of ours looks like that in that window (kills and shutdown mark the conn)
  private isDrainingPublish = false;

  private isBackpressureClose(conn: UwsConn, code: number, reason: ArrayBuffer): boolean {
    if (conn.isOverLimit) return true;
    return this.isDrainingPublish && !conn.isEnded && code === 1006 && reason.byteLength === 0;
  }

  publishNative(topic: string, frame: string): boolean {
    for (const app of this.apps) app.publish(topic, frame, false, false);
    if (!this.isDrainingPublish) {
      this.isDrainingPublish = true;
      setImmediate(() => {
        this.isDrainingPublish = false;
      });
    }
    return true;
  }

  get isListening(): boolean {
    return this.listenSocket !== null;
  }

  async applyConfig(patch: Partial<ServerConfig>): Promise<void> {
    const changed = STRUCTURAL.filter((key) => key in patch && patch[key] !== this.hub.config[key]);
    if (changed.length === 0 || !this.listenSocket) return;
    const field = changed[0]!;
    const open = this.hub.conns.size;
    const held = open > 0 ? open : (socketsOnPort(this.port) ?? 0);
    if (held > 0) {
      throw new ConfigRefusedError(
        field,
        `the uws engine fixes ${changed.join(', ')} per listener, and ${held} ` +
          `${open > 0 ? 'open connections hold' : 'sockets still hold (TIME_WAIT after closes)'} port ` +
          `${this.port}, so the listener cannot move now: set it at start (--config), try again with no ` +
          `connections, or use --engine ws, which applies it to new connections`,
      );
    }
    // the hub takes the patch after this returns; the new App must be built with it already
    const previous = { ...this.hub.config };
    Object.assign(this.hub.config, patch);
    const app = this.createApp();
    Object.assign(this.hub.config, previous);
    this.uws.us_listen_socket_close(this.listenSocket);
    this.listenSocket = null;
    // the old listener's close can take a moment to free the port: retry for up to 2 s
    for (let attempt = 0; attempt < 20 && !this.listenSocket; attempt++) {
      if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 100));
      listenExclusive(this.uws, app, this.host, this.port, (socket) => {
        if (socket) this.listenSocket = socket;
      });
    }
    if (!this.listenSocket)
      throw new ConfigRefusedError(
        field,
        `the WebSocket listener on port ${this.port} could not be moved and is down; restart the server`,
        503,
      );
  }

  async close(graceMs: number): Promise<void> {
    if (this.listenSocket) this.uws.us_listen_socket_close(this.listenSocket);
    this.listenSocket = null;
    for (const conn of this.hub.conns) conn.end(1001, 'server shutting down');
    const deadline = Date.now() + graceMs;
    while (this.hub.conns.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    for (const conn of this.hub.conns) conn.reset();
  }
}
