/**
 * A lean WebSocket client on `net.Socket` (or `tls` for wss://): the upgrade written directly and
 * frames read straight off the socket, for users without compression. Profiles showed `ws`'s
 * per-connection parts (the upgrade through `http.ClientRequest`, a Writable `Receiver`, a
 * `Sender`, an EventEmitter per socket) on the measured path and in every user's heap, which
 * the garbage collector walks. This keeps one object per connection and calls its owner
 * directly; `ws` still serves compression (`permessage-deflate`) and `SOCKSTORM_CLIENT=ws`.
 *
 * It fails exactly as `ws` does, with `ws`'s messages and codes, so `classify-error.ts` gives
 * every class as before: `Unexpected server response: N`, `Invalid Upgrade header`,
 * `Invalid Sec-WebSocket-Accept header`, the subprotocol and extension refusals, `HPE_*` for
 * an answer that is not HTTP, and `WS_ERR_*` for frames the protocol forbids (UTF-8 checked
 * by Node's `buffer.isUtf8`, as `ws` checks it; close codes by ws's rule, in lean-frames.ts).
 * Like `ws`, an error after the upgrade that is not a frame's (a reset) is a close 1006, not an
 * error.
 */
import { createHash } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import net from 'node:net';
import tls from 'node:tls';
import {
  BAD_UTF8,
  coded,
  headerRefusal,
  isValidCloseCode,
  maskedFrame,
  nextKey,
  type Refusal,
  readAnswer,
  TOO_BIG,
  TOO_LONG,
  upgradeRequest,
} from './lean-frames.ts';

/** Who hears of a connection's life; the virtual user implements it. */
export interface SocketSink {
  socketOpen(): void;
  /**
   * `data` may be lent (a view of the process's read buffer):
   * it is valid until the call returns, so copy what you keep.
   */
  socketMessage(data: Buffer, isBinary: boolean): void;
  socketError(error: Error & { code?: string }): void;
  socketClose(code: number, reason: Buffer): void;
  /** A ping arrived while open: whether to answer it (absent: always, as `ws` does). */
  socketPing?(payload: Buffer): boolean;
}

/** The client options the fleet uses (a subset of `ws`'s). */
export interface LeanOptions {
  headers?: Record<string, string>;
  maxPayload?: number;
  rejectUnauthorized?: boolean;
  localAddress?: string;
  /** How the host's name becomes an address (the fleet answers from what it resolved at the start). */
  lookup?: net.LookupFunction;
}

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const EMPTY = Buffer.alloc(0);
const CLOSE_TIMEOUT_MS = 30_000;
const OWNER = Symbol('sockstorm.lean');
type Tagged = net.Socket & { [OWNER]: LeanClient };

// Every plain socket of the process reads into this one buffer (net's `onread`): a read costs no
// Buffer of its own and skips the Readable stream's push and 'data' event, which profiles of a
// broadcast put at a fifth of a frame's cost. Reads are handled one at a time, so one buffer
// serves all; a frame's bytes that must outlive the read are copied out (`ownLeftovers`).
const READ = Buffer.alloc(64 * 1024);
function isLent(chunk: Buffer): boolean {
  return chunk.buffer === READ.buffer;
}

function onConnect(this: net.Socket): void {
  (this as Tagged)[OWNER].sendUpgrade();
}
function onData(this: net.Socket, chunk: Buffer): void {
  (this as Tagged)[OWNER].receive(chunk);
}
function onRead(this: net.Socket, bytes: number): boolean {
  (this as Tagged)[OWNER].receive(READ.subarray(0, bytes));
  return true;
}
function onError(this: net.Socket, error: Error): void {
  (this as Tagged)[OWNER].socketFailed(error);
}
function onClose(this: net.Socket): void {
  (this as Tagged)[OWNER].socketClosed();
}
function onCloseTimeout(client: LeanClient): void {
  client.terminate();
}

/** One lean connection: `readyState` 0 connecting, 1 open, 2 closing, 3 closed, as in `ws`. */
export class LeanClient {
  readyState = 0;
  private readonly socket: Tagged;
  private accept: string | null;
  private request: string | null;
  private readonly protocols: readonly string[];
  private readonly maxPayload: number;
  private chunks: Buffer[] = [];
  private chunkBytes = 0;
  private fragments: Buffer[] | null = null;
  private fragmentBytes = 0;
  private fragmentBinary = false;
  private hasErrored = false;
  private closeSent = false;
  private closeReceived = false;
  private closeCode = 1006;
  private closeReason = EMPTY;
  private closeTimer: NodeJS.Timeout | null = null;
  private readonly isSecure: boolean;

  /** Throws, as `ws` does, for a URL it cannot dial; everything later arrives at `sink`. */
  constructor(
    url: string,
    protocols: readonly string[],
    options: LeanOptions,
    private readonly sink: SocketSink,
  ) {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw coded(`Invalid URL: ${url}`, 'ERR_INVALID_URL', SyntaxError);
    }
    const isSecure = parsed.protocol === 'wss:' || parsed.protocol === 'https:';
    if (!isSecure && parsed.protocol !== 'ws:' && parsed.protocol !== 'http:')
      throw new SyntaxError('The URL\'s protocol must be one of "ws:", "wss:", "http:", "https:", or "ws+unix:"');
    if (parsed.hash) throw new SyntaxError('The URL contains a fragment identifier');
    const host = parsed.hostname.startsWith('[') ? parsed.hostname.slice(1, -1) : parsed.hostname;
    const port = Number(parsed.port) || (isSecure ? 443 : 80);
    this.isSecure = isSecure;
    this.protocols = protocols;
    this.maxPayload = options.maxPayload ?? 100 * 1024 * 1024;
    const key = nextKey();
    this.accept = createHash('sha1')
      .update(key + GUID)
      .digest('base64');
    this.request = upgradeRequest(parsed, key, protocols, options.headers);
    const connect = { host, port, localAddress: options.localAddress, noDelay: true, lookup: options.lookup };
    this.socket = (
      isSecure
        ? tls.connect({
            ...connect,
            servername: net.isIP(host) ? undefined : host,
            rejectUnauthorized: options.rejectUnauthorized !== false,
          })
        : net.connect({ ...connect, onread: { buffer: READ, callback: onRead } })
    ) as Tagged;
    this.socket[OWNER] = this;
    this.socket.once(isSecure ? 'secureConnect' : 'connect', onConnect);
    if (isSecure) this.socket.on('data', onData);
    this.socket.on('error', onError);
    this.socket.once('close', onClose);
  }

  /** @internal the socket is connected: write the upgrade. */
  sendUpgrade(): void {
    if (this.request) this.socket.write(this.request);
    this.request = null;
  }

  /** Sends a text (string) or binary (Buffer) message; only when open. */
  send(data: string | Buffer): void {
    if (this.readyState !== 1) return;
    if (typeof data === 'string') this.writeFrame(1, data, Buffer.byteLength(data));
    else this.writeFrame(2, data, data.length);
  }

  /** Starts the closing handshake (code, reason) as `ws` does; the socket goes after the server's answer or 30 s. */
  close(code?: number, reason?: string): void {
    if (this.readyState === 0) return this.terminate();
    if (this.readyState !== 1) return;
    this.readyState = 2;
    this.sendClose(code, reason);
    if (this.closeReceived) this.socket.end();
  }

  /** Drops the connection at once: no close frame. */
  terminate(): void {
    if (this.readyState === 3) return;
    this.readyState = 2;
    this.socket.destroy();
  }

  /**
   * Drops the connection with a TCP RST, as a crashed peer or a
   * middlebox does (wss:// has no RST of its own: a plain drop).
   */
  reset(): void {
    if (this.readyState === 3) return;
    if (this.isSecure || this.socket.connecting || this.socket.destroyed) return this.terminate();
    this.readyState = 2;
    this.socket.resetAndDestroy();
  }

  /** Bytes written but not yet taken by the kernel, as `ws`'s `bufferedAmount`. */
  get bufferedAmount(): number {
    return this.socket.writableLength;
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    this.socket.resume();
  }

  /** @internal */
  socketFailed(error: Error): void {
    // after the upgrade a socket error is a close 1006, as in ws; before it, the handshake's error
    if (this.readyState === 0) this.fail(error);
    else this.socket.destroy();
  }

  /** @internal */
  socketClosed(): void {
    if (this.readyState === 0 && !this.hasErrored) this.fail(coded('socket hang up', 'ECONNRESET'));
    this.readyState = 3;
    if (this.closeTimer) clearTimeout(this.closeTimer);
    this.closeTimer = null;
    this.chunks.length = 0;
    this.fragments = null;
    this.sink.socketClose(this.closeCode, this.closeReason);
  }

  /** @internal bytes from the socket: the upgrade's answer, then frames. */
  receive(chunk: Buffer): void {
    if (this.readyState === 3 || this.hasErrored || this.closeReceived) return;
    this.chunks.push(chunk);
    this.chunkBytes += chunk.length;
    if (this.readyState !== 0 || this.readUpgrade()) this.readFrames();
    this.ownLeftovers();
  }

  // what is left unread waits for the next read, which overwrites the shared buffer: copy it out
  private ownLeftovers(): void {
    const last = this.chunks.length - 1;
    if (last >= 0 && isLent(this.chunks[last]!)) this.chunks[last] = Buffer.from(this.chunks[last]!);
  }

  private fail(error: Error): void {
    if (!this.hasErrored) {
      this.hasErrored = true;
      this.sink.socketError(error);
    }
    this.terminate();
  }

  /** Fails the connection for a frame the protocol forbids: the error, then a close with its status. */
  private protocolError([message, code, status, ctor]: Refusal): void {
    if (this.hasErrored) return;
    this.hasErrored = true;
    this.sink.socketError(coded(message, code, ctor));
    if (this.readyState === 1) {
      this.readyState = 2;
      this.sendClose(status);
    }
    this.socket.end();
  }

  // the unread bytes live in one array, reused: a frame read whole costs no allocation here
  private joined(): Buffer {
    if (this.chunks.length > 1) {
      const all = Buffer.concat(this.chunks, this.chunkBytes);
      this.chunks.length = 0;
      this.chunks.push(all);
    }
    return this.chunks[0] ?? EMPTY;
  }

  private consumed(buffer: Buffer, offset: number): void {
    this.chunks.length = 0;
    this.chunkBytes = Math.max(0, buffer.length - offset);
    if (this.chunkBytes > 0) this.chunks.push(buffer.subarray(offset));
  }

  /** Reads the answer to the upgrade; false while it is incomplete or when it failed. */
  private readUpgrade(): boolean {
    const buffer = this.joined();
    const answer = readAnswer(buffer, this.accept!, this.protocols);
    if (answer === null) return false;
    if (answer instanceof Error) {
      this.fail(answer);
      return false;
    }
    this.accept = null;
    this.consumed(buffer, answer);
    this.readyState = 1;
    this.sink.socketOpen();
    return this.readyState === 1;
  }

  private readFrames(): void {
    while (this.chunkBytes >= 2 && this.readyState !== 3 && !this.hasErrored && !this.closeReceived) {
      const first = this.chunks[0]!;
      // the header is at most 14 bytes: join only when the first chunk does not hold it
      const head = first.length >= 14 || this.chunks.length === 1 ? first : this.joined();
      const b0 = head[0]!;
      const b1 = head[1]!;
      const opcode = b0 & 0x0f;
      const refusal = headerRefusal(b0, b1, opcode, this.fragments !== null);
      if (refusal) return this.protocolError(refusal);
      let length = b1 & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (head.length < 4) return;
        length = head.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (head.length < 10) return;
        const high = head.readUInt32BE(2);
        if (high > 0x1fffff) return this.protocolError(TOO_LONG);
        length = high * 2 ** 32 + head.readUInt32BE(6);
        offset = 10;
      }
      if (opcode < 8 && this.maxPayload > 0 && this.fragmentBytes + length > this.maxPayload)
        return this.protocolError(TOO_BIG);
      if (this.chunkBytes < offset + length) return;
      const buffer = this.joined();
      const payload = buffer.subarray(offset, offset + length);
      this.consumed(buffer, offset + length);
      this.onFrame((b0 & 0x80) !== 0, opcode, payload);
    }
  }

  private onFrame(isFinal: boolean, opcode: number, payload: Buffer): void {
    if (opcode === 8) return this.onCloseFrame(payload);
    if (opcode === 9) {
      if (this.readyState === 1 && (this.sink.socketPing?.(payload) ?? true))
        this.writeFrame(10, payload, payload.length);
      return;
    }
    if (opcode === 10) return;
    if (opcode !== 0) {
      this.fragmentBinary = opcode === 2;
      if (isFinal) return this.deliver(payload);
      this.fragments = [];
      this.fragmentBytes = 0;
    }
    this.fragments!.push(isLent(payload) ? Buffer.from(payload) : payload);
    this.fragmentBytes += payload.length;
    if (isFinal) this.deliver(Buffer.concat(this.fragments!, this.fragmentBytes));
  }

  private deliver(data: Buffer): void {
    const isBinary = this.fragmentBinary;
    this.fragments = null;
    this.fragmentBytes = 0;
    if (!isBinary && !isUtf8(data)) return this.protocolError(BAD_UTF8);
    this.sink.socketMessage(data, isBinary);
  }

  private onCloseFrame(payload: Buffer): void {
    const code = payload.length === 0 ? 1005 : payload.readUInt16BE(0);
    if (payload.length > 0 && !isValidCloseCode(code))
      return this.protocolError([
        `Invalid WebSocket frame: invalid status code ${code}`,
        'WS_ERR_INVALID_CLOSE_CODE',
        1002,
        RangeError,
      ]);
    const reason = payload.subarray(2);
    if (!isUtf8(reason)) return this.protocolError(BAD_UTF8);
    this.closeReceived = true;
    this.closeCode = code;
    this.closeReason = Buffer.from(reason);
    // answer with the same code, as ws does, and end our side
    if (this.readyState === 1) {
      this.readyState = 2;
      this.sendClose(code === 1005 ? undefined : code, this.closeReason);
    }
    this.socket.end();
  }

  private sendClose(code?: number, reason: string | Buffer = EMPTY): void {
    if (this.closeSent) return;
    this.closeSent = true;
    if (code === undefined) this.writeFrame(8, EMPTY, 0);
    else {
      const bytes = typeof reason === 'string' ? Buffer.from(reason) : reason;
      const payload = Buffer.allocUnsafe(2 + bytes.length);
      payload.writeUInt16BE(code, 0);
      bytes.copy(payload, 2);
      this.writeFrame(8, payload, payload.length);
    }
    this.closeTimer = setTimeout(onCloseTimeout, CLOSE_TIMEOUT_MS, this);
  }

  /** Writes one final, masked frame. */
  private writeFrame(opcode: number, data: string | Buffer, length: number): void {
    this.socket.write(maskedFrame(opcode, data, length));
  }
}
