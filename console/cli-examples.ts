/**
 * The `Example:` block of every command's --help, written once here (the option table,
 * cli-options.ts, holds the options). Each line is a whole command line a user can paste; a
 * test parses every one with the real program, so an example that stops parsing fails it.
 * The bundled server's examples are its own program's (target-server/main.ts).
 */

/** Example command lines by command (`tune` shows each action). */
export const EXAMPLES: Readonly<Record<string, readonly string[]>> = {
  run: [
    'sockstorm run examples/burst.storm',
    'sockstorm run examples/ramp.storm --json summary.json --report report.html --junit junit.xml',
    'sockstorm run examples/targets/subscribe.storm --target ws://localhost:8080/ws',
    'sockstorm run - < my.storm',
  ],
  compare: [
    'sockstorm compare examples/event-loop.storm --variant ws-loop:engine=ws,fanout=loop --variant uws:engine=uws ' +
      '--report compare.html',
    'sockstorm compare before.json after.json',
  ],
  console: ['sockstorm console', 'sockstorm console --target ws://localhost:8080/ws --rate 200'],
  demo: ['sockstorm demo', 'CI=1 sockstorm demo --engine ws'],
  tune: [
    'sockstorm tune check --connections 50000',
    'sudo sockstorm tune apply --connections 50000 --yes --journal tune.journal',
    'sudo sockstorm tune restore --journal tune.journal',
    'sockstorm tune probe --max 5000',
  ],
  agent: [
    'SOCKSTORM_TOKEN=0123456789abcdef sockstorm agent --coordinator wss://coordinator:7400 --ca ca.pem',
    'sockstorm agent --coordinator ws://127.0.0.1:7400 --token 0123456789abcdef --name a1',
  ],
  dashboard: [
    'sockstorm run examples/chaos.storm --metrics-port 9464   # then, in another terminal:',
    'sockstorm dashboard --attach http://127.0.0.1:9464',
    'sockstorm dashboard --run examples/burst.storm',
  ],
};

/** The `Example:` block of `command`'s --help, after a blank line. */
export function examplesHelp(command: string): string {
  return `\nExample:\n${(EXAMPLES[command] ?? []).map((line) => `  ${line}`).join('\n')}\n`;
}
