import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../console/bin.mjs', import.meta.url));

/**
 * Test "hosts": network namespaces on one bridge, each with its own address in 198.18.0.0/24 (the benchmarking range).
 */
export interface Hosts {
  /** The root namespace's address on the bridge: where the coordinator and the bundled server listen. */
  readonly root: string;
  readonly names: string[];
  readonly addresses: string[];
  /** Starts `sockstorm ...args` inside host `index`, with CI set. */
  sockstorm(index: number, args: string[]): ChildProcess & { output(): string };
  remove(): void;
}

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * Makes `count` namespaces with veth pairs on a bridge of their own. Throws with the reason
 * where namespaces cannot be made (not root, no `ip`): a test must fail, not pass silently.
 */
export function makeHosts(count: number, tag: string): Hosts {
  const id = `${tag}${process.pid % 10000}`;
  const bridge = `ssb${id}`.slice(0, 15);
  const names = Array.from({ length: count }, (_, i) => `ss-${id}-${i}`);
  const root = '198.18.0.1';
  const addresses = names.map((_, i) => `198.18.0.${11 + i}`);
  const children = new Set<ChildProcess>();
  const remove = (): void => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    for (const name of names) {
      try {
        ip('netns', 'del', name);
      } catch {
        /* already gone */
      }
    }
    try {
      ip('link', 'del', bridge);
    } catch {
      /* already gone */
    }
  };
  try {
    ip('link', 'add', bridge, 'type', 'bridge');
    ip('addr', 'add', `${root}/24`, 'dev', bridge);
    ip('link', 'set', bridge, 'up');
    names.forEach((name, i) => {
      const veth = `ssv${id}${i}`.slice(0, 15);
      ip('netns', 'add', name);
      ip('link', 'add', veth, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', name);
      ip('link', 'set', veth, 'master', bridge, 'up');
      ip('netns', 'exec', name, 'ip', 'addr', 'add', `${addresses[i]}/24`, 'dev', 'eth0');
      ip('netns', 'exec', name, 'ip', 'link', 'set', 'eth0', 'up');
      ip('netns', 'exec', name, 'ip', 'link', 'set', 'lo', 'up');
    });
  } catch (error) {
    remove();
    const e = error as { message: string; stderr?: Buffer };
    throw new Error(
      `cannot make network namespaces for the test hosts (root and iproute2 are needed): ` +
        `${e.stderr?.toString().trim() || e.message}`,
    );
  }
  return {
    root,
    names,
    addresses,
    remove,
    sockstorm(index, args) {
      const child = spawn('ip', ['netns', 'exec', names[index]!, process.execPath, BIN, ...args], {
        env: { ...process.env, CI: 'true' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      children.add(child);
      let output = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      child.stderr!.on('data', (chunk: Buffer) => {
        output += chunk.toString();
      });
      return Object.assign(child, { output: () => output });
    },
  };
}
