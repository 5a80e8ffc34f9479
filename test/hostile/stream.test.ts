// Catalog row 14: a /stream reader that does not read costs the generator gaps in its stream,
// not memory.
import net from 'node:net';
import { describe, it } from 'vitest';
import { startMetricsEndpoint } from '../../console/report/metrics-endpoint.ts';
import { useEngines } from '../helpers/engines.ts';
import { eventually } from '../helpers/test-client.ts';

describe('the snapshot stream', () => {
  const engines = useEngines();

  it('drops snapshots for a reader that does not read, and keeps serving one that does', async () => {
    const engine = await engines.start({ snapshotIntervalMs: 2 }, 5);
    const endpoint = await startMetricsEndpoint(engine);
    const port = Number(new URL(endpoint.url).port);
    try {
      const stuck = net.connect(port, '127.0.0.1');
      stuck.on('error', () => {});
      stuck.write('GET /stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      stuck.pause();
      let received = 0;
      const reader = net.connect(port, '127.0.0.1');
      reader.write('GET /stream HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
      reader.on('data', (chunk) => {
        received += chunk.toString().split('\n').length - 1;
      });
      // a snapshot is a few KiB: the stuck reader's kernel buffers fill, then ours would grow
      await eventually(() => endpoint.droppedSnapshots > 10, 20_000);
      const before = received;
      await eventually(() => received > before + 5, 5000);
      stuck.destroy();
      reader.destroy();
    } finally {
      await endpoint.close();
    }
  }, 30_000);
});
