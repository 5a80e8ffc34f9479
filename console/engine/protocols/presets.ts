/**
 * The codec of each preset, loaded when a run first speaks it: a run of raw WebSocket never
 * loads socket.io-parser or mqtt-packet.
 */
import type { Codec, CodecOptions, ProtocolName } from './codec.ts';

/** The codec of a preset. */
export async function codecFor(name: ProtocolName, options: CodecOptions = {}): Promise<Codec> {
  switch (name) {
    case 'raw':
      return (await import('./raw.ts')).rawCodec();
    case 'socketio':
      return (await import('./socketio.ts')).socketIoCodec(options);
    case 'graphql-ws':
      return (await import('./graphql-ws.ts')).graphqlWsCodec();
    case 'mqtt':
      return (await import('./mqtt.ts')).mqttCodec(options);
  }
}
