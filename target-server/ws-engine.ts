/**
 * The `ws` engine: Node's `ws` with fan-out as a plain JavaScript loop over subscribers.
 * It is the untuned baseline of the event-loop demo: a broadcast to N clients costs N sends
 * on the server's one thread, and blocks it that long.
 */
import http from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, WebSocket } from 'ws';
import { parseTopicsParam, type ServerConfig } from './contract/wire.ts';
import type { SendStatus, ServerConn, ServerHub } from './server-hub.ts';
import type { ServerEngine } from './server-engine.ts';

const SHUTDOWN_REASON = Buffer.from('server shutting down');
// an unmasked server close frame: FIN + opcode 8, payload = code 1001 + reason
const SHUTDOWN_FRAME = Buffer.concat([Buffer.from([0x88, 2 + SHUTDOWN_REASON.length, 0x03, 0xe9]), SHUTDOWN_REASON]);

class WsConn implements ServerConn {
  readonly topics = new Set<string>();
  lastActiveMs = Date.now();
  constructor(
    private readonly ws: WebSocket,
    private readonly hub: ServerHub,
  ) {}

  send(frame: string | Uint8Array, isBinary: boolean): SendStatus {
    if (this.ws.readyState !== WebSocket.OPEN) return 'closed';
    if (this.ws.bufferedAmount > this.hub.config.maxBackpressure) {
      // same policy as uWS closeOnBackpressureLimit: a consumer this far behind is cut
      this.hub.countBackpressureClose();
      this.ws.terminate();
      return 'dropped';
    }
    this.ws.send(frame, { binary: isBinary });
    this.lastActiveMs = Date.now();
    return 'ok';
  }
  subscribe(): void {}
  unsubscribe(): void {}
  end(code: number, reason: string): void {
    this.ws.close(code, reason);
  }
  reset(): void {
    this.ws.terminate();
  }
}

/** The `ws` engine. */
export class WsEngine implements ServerEngine {
  readonly name = 'ws' as const;
  readonly isNative = false;
  private readonly http = http.createServer((_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain' }).end('this endpoint speaks WebSocket only');
  });
  private readonly wss: WebSocketServer;
  private readonly idleTimer: NodeJS.Timeout;
  private readonly sockets = new Set<Duplex>();

  constructor(private readonly hub: ServerHub) {
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      maxPayload: hub.config.maxPayload,
      perMessageDeflate: hub.config.compression,
    });
    this.http.on('upgrade', (req, socket, head) => this.upgrade(req, socket, head));
    this.idleTimer = setInterval(() => this.closeIdle(), 1000);
    this.idleTimer.unref();
  }

  private upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => {});
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    if (this.hub.shouldReject()) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const url = new URL(req.url ?? '/', 'http://localhost');
    const topics = parseTopicsParam(url.searchParams.get('topics'));
    const accept = (): void => {
      if (socket.destroyed) return;
      this.wss.handleUpgrade(req, socket, head, (ws) => this.open(ws, topics));
    };
    const delayMs = this.hub.config.acceptDelayMs;
    if (delayMs > 0) setTimeout(accept, delayMs);
    else accept();
  }

  private open(ws: WebSocket, topics: string[]): void {
    const conn = new WsConn(ws, this.hub);
    ws.on('message', (data: Buffer, isBinary) => {
      conn.lastActiveMs = Date.now();
      this.hub.onMessage(conn, data, isBinary);
    });
    ws.on('error', (error: Error & { code?: string }) => {
      if (error.code?.startsWith('WS_ERR_')) this.hub.countBadFrame();
    });
    ws.on('close', () => this.hub.onClose(conn));
    this.hub.onOpen(conn, topics);
  }

  private closeIdle(): void {
    const idleMs = this.hub.config.idleTimeout * 1000;
    if (idleMs <= 0) return;
    const cutoff = Date.now() - idleMs;
    for (const conn of this.hub.conns) {
      if ((conn as WsConn).lastActiveMs < cutoff) conn.end(1001, 'idle timeout');
    }
  }

  listen(host: string, port: number): Promise<number> {
    return new Promise((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen({ host, port, backlog: 4096, exclusive: true }, () => {
        this.http.off('error', reject);
        resolve((this.http.address() as { port: number }).port);
      });
    });
  }

  publishNative(): boolean {
    return false;
  }

  get isListening(): boolean {
    return this.http.listening;
  }

  // ws reads these options at every upgrade, so a change applies to new connections; idle
  // timeout and backpressure are read from the hub's config on every check
  async applyConfig(patch: Partial<ServerConfig>): Promise<void> {
    if (patch.maxPayload !== undefined) this.wss.options.maxPayload = patch.maxPayload;
    if (patch.compression !== undefined) this.wss.options.perMessageDeflate = patch.compression;
  }

  // Shutdown writes one prebuilt close frame (1001) to every socket and ends it, then waits
  // only for sockets whose frame is still queued: the kernel sends what it already holds
  // after the process exits. Waiting for ws to process 10,000 closing handshakes took
  // seconds of JavaScript.
  async close(graceMs: number): Promise<void> {
    clearInterval(this.idleTimer);
    this.http.close();
    const queued: Array<Promise<void>> = [];
    for (const socket of this.sockets) {
      socket.end(SHUTDOWN_FRAME);
      if (socket.writableLength > 0)
        queued.push(new Promise((resolve) => socket.once('finish', resolve).once('close', resolve)));
    }
    if (queued.length > 0)
      await Promise.race([Promise.all(queued), new Promise((resolve) => setTimeout(resolve, graceMs))]);
  }
}
