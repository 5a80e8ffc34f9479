/**
 * Reads the NDJSON snapshot stream of a running console or run (`--metrics-port`), and says
 * when the stream ends or cannot be reached; it never throws into the dashboard.
 */
import type { Snapshot } from '../engine/snapshot.ts';

/** Follows `${baseUrl}/stream` until `signal` aborts. */
export async function followStream(baseUrl: string, onSnapshot: (s: Snapshot) => void, onStatus: (text: string) => void, signal: AbortSignal): Promise<void> {
  let response: Response;
  try {
    response = await fetch(`${baseUrl.replace(/\/$/, '')}/stream`, { signal });
  } catch (error) {
    onStatus(`cannot reach ${baseUrl}: ${(error as Error).message}`);
    return;
  }
  if (!response.ok || !response.body) {
    onStatus(`${baseUrl}/stream answered HTTP ${response.status}`);
    return;
  }
  onStatus(`attached to ${baseUrl}`);
  const decoder = new TextDecoder();
  let buffer = '';
  try {
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let newline = buffer.indexOf('\n');
      while (newline >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        if (line.trim()) {
          try {
            onSnapshot(JSON.parse(line) as Snapshot);
          } catch {
            onStatus('skipped a line that was not a snapshot');
          }
        }
        newline = buffer.indexOf('\n');
      }
    }
    onStatus('the run ended (stream closed)');
  } catch (error) {
    if (!signal.aborted) onStatus(`stream broke: ${(error as Error).message}`);
  }
}
