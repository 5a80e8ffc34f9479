// `sockstorm console` on a terminal of its own (a pty), against the bundled server: what the
// operator reads on the screen, as the operator reads it.
import { describe, expect, it } from 'vitest';
import { EXIT } from '../../target-server/contract/exit-codes.ts';
import { startOnPty, type PtyRun } from '../dashboard/pty.ts';
import { hasTool } from '../helpers/optional-tools.ts';

async function waitFor(term: PtyRun, pattern: RegExp, timeoutMs = 30_000): Promise<RegExpExecArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = pattern.exec(term.screen());
    if (found) return found;
    if (Date.now() > deadline) throw new Error(`${String(pattern)} did not appear; the screen read:\n${term.screen()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe.skipIf(!hasTool('pty', 'the console on a terminal'))('sockstorm console on a terminal', () => {
  it('shows where --metrics-port 0 serves in its event log, says :save needs a file, keeps the peak of ' +
    'open users after they are removed, and q exits 0', async () => {
    const term = startOnPty(['console', '--metrics-port', '0', '--rate', '1000']);
    // the whole line at 80 columns, and the address is the endpoint's own: it answers there
    const [, base] = await waitFor(
      term,
      /^ +\d:\d\d metrics at (http:\/\/127\.0\.0\.1:\d+)\/metrics \(and \/snapshot, \/stream\) *$/m,
    );
    const snapshot = (await (await fetch(`${base}/snapshot`)).json()) as { fleet: { target: number } };
    expect(snapshot.fleet.target).toBe(0);
    term.type(':');
    await waitFor(term, /^:█? *$/m);
    term.type('save');
    await waitFor(term, /^:save/m);
    term.type('\r');
    await waitFor(term, /^:save needs a file: :save FILE\.storm *$/m);
    term.type('+');
    await waitFor(term, /│ open 100\/100 +│/);
    term.type('-');
    await waitFor(term, /│ open 0\/0 +│/);
    expect(term.screen()).toMatch(/│ peak 100 [▁-█]+ +│/);
    // the whole frame stays within the terminal
    for (const line of term.screen().split('\n')) expect(line.length).toBeLessThanOrEqual(80);
    term.type('q');
    expect(await term.exit).toBe(EXIT.passed);
    expect(term.raw()).toContain('sockstorm: session ended after');
  }, 60_000);
});
