/**
 * The Kubernetes manifests of console/deploy/kubernetes: parsed with a real YAML parser, their
 * wiring checked (the Indexed Job, the Service the agents dial, the token's Secret, the sysctl,
 * the memory for the users each agent holds), and both command lines run through the real CLI
 * with only the addresses changed, so a flag the CLI does not take fails here (104), not in a pod.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { EXIT } from '../../target-server/contract/exit-codes.ts';
import { COST_PER_CONNECTION_BYTES } from '../../tuning/plan.ts';
import { runCli } from '../helpers/run-cli.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DIR = join(ROOT, 'console', 'deploy', 'kubernetes');

interface EnvVar {
  name: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}
interface Container {
  name: string;
  image: string;
  args: string[];
  env?: EnvVar[];
  ports?: Array<{ name?: string; containerPort: number }>;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  volumeMounts?: Array<{ name: string; mountPath: string }>;
}
interface PodSpec {
  restartPolicy?: string;
  containers: Container[];
  securityContext?: { sysctls?: Array<{ name: string; value: string }> };
  volumes?: Array<{ name: string; configMap?: { name: string } }>;
}
interface JobSpec {
  completionMode?: string;
  completions?: number;
  parallelism?: number;
  backoffLimit?: number;
  backoffLimitPerIndex?: number;
  template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
}
interface ServiceSpec {
  selector: Record<string, string>;
  ports: Array<{ port: number; targetPort: number | string }>;
}
interface Resource {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec?: unknown;
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

/** Every document of a manifest; a YAML error fails the test with the parser's message. */
function load(file: string): Resource[] {
  return parseAllDocuments(readFileSync(join(DIR, file), 'utf8')).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join('; ')}`);
    return doc.toJS() as Resource;
  });
}

function find(resources: Resource[], kind: string, name?: string): Resource {
  const found = resources.find((r) => r.kind === kind && (name === undefined || r.metadata.name === name));
  if (!found) throw new Error(`no ${kind}${name ? ` ${name}` : ''}`);
  return found;
}

/** The value after `flag` in a command line, or undefined when the flag is absent. */
function flag(args: string[], name: string): string | undefined {
  const at = args.indexOf(name);
  return at < 0 ? undefined : args[at + 1];
}

/** The command line with the values of some flags replaced; every one of them must be there. */
function replaced(args: string[], values: Record<string, string>): string[] {
  const out = [...args];
  for (const [name, value] of Object.entries(values)) {
    const at = out.indexOf(name);
    if (at < 0) throw new Error(`the manifest's command line has no ${name}: ${args.join(' ')}`);
    out[at + 1] = value;
  }
  return out;
}

/** A Kubernetes memory quantity (Ki, Mi, Gi) in bytes. */
function bytes(quantity: string | undefined): number {
  const match = /^(\d+)(Ki|Mi|Gi)?$/.exec(quantity ?? '');
  if (!match) throw new Error(`not a memory quantity: ${quantity}`);
  return Number(match[1]) * { Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, '': 1 }[match[2] ?? '']!;
}

const secretRef = (container: Container, variable: string) =>
  container.env?.find((e) => e.name === variable)?.valueFrom?.secretKeyRef;

const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml'));
const coordinatorDocs = load('coordinator.yaml');
const coordinatorJob = find(coordinatorDocs, 'Job').spec as JobSpec;
const coordinator = coordinatorJob.template.spec.containers[0]!;
const service = find(coordinatorDocs, 'Service');
const script = find(coordinatorDocs, 'ConfigMap');
const agentJob = find(load('agents.yaml'), 'Job').spec as JobSpec;
const agent = agentJob.template.spec.containers[0]!;
const secret = find(load('secret.yaml'), 'Secret');
const TOKEN = 'a'.repeat(32);
const temp = mkdtempSync(join(tmpdir(), 'sockstorm-k8s-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

describe('console/deploy/kubernetes', () => {
  it('parses every manifest, and the kustomization lists every one but the token template', () => {
    for (const file of files) expect(load(file).length, file).toBeGreaterThan(0);
    const kustomization = load('kustomization.yaml')[0] as Resource & { namespace: string; resources: string[] };
    expect(kustomization.kind).toBe('Kustomization');
    expect(kustomization.resources.sort()).toEqual(
      files.filter((f) => f !== 'kustomization.yaml' && f !== 'secret.yaml').sort(),
    );
    expect(kustomization.namespace).toBe(find(load('namespace.yaml'), 'Namespace').metadata.name);
    expect(coordinatorDocs.map((r) => r.kind).sort()).toEqual(['ConfigMap', 'Job', 'Service']);
  });

  it('runs the agents as an Indexed Job, one agent for each the coordinator waits for, named by index', () => {
    expect(agentJob.completionMode).toBe('Indexed');
    expect(agentJob.completions).toBe(20);
    expect(agentJob.parallelism).toBe(agentJob.completions);
    expect(Number(flag(coordinator.args, '--agents'))).toBe(agentJob.completions);
    expect(agentJob.template.spec.restartPolicy).toBe('Never');
    expect(coordinatorJob.template.spec.restartPolicy).toBe('Never');
    // a per-index limit: one agent's failure must not end the Job (and kill the other agents)
    expect(agentJob.backoffLimitPerIndex).toBeGreaterThanOrEqual(0);
    expect(agentJob.backoffLimit).toBeUndefined();
    // the agent reads $JOB_COMPLETION_INDEX itself; a --name must be built from it
    const name = flag(agent.args, '--name');
    if (name !== undefined) expect(name).toContain('$(JOB_COMPLETION_INDEX)');
  });

  it("points the agents at the coordinator's Service, whose port reaches the coordinator's --listen", () => {
    const url = new URL(flag(agent.args, '--coordinator')!);
    const spec = service.spec as ServiceSpec;
    expect(url.hostname).toBe(service.metadata.name);
    expect(Number(url.port)).toBe(spec.ports[0]!.port);
    // plain ws:// to another host is refused without --plaintext
    if (url.protocol === 'ws:') expect(agent.args).toContain('--plaintext');
    const target = spec.ports[0]!.targetPort;
    const containerPort =
      typeof target === 'number' ? target : coordinator.ports?.find((p) => p.name === target)?.containerPort;
    expect(containerPort).toBe(Number(flag(coordinator.args, '--listen')!.split(':').pop()));
    const matches = (labels: Record<string, string>) =>
      Object.entries(spec.selector).every(([k, v]) => labels[k] === v);
    expect(matches(coordinatorJob.template.metadata.labels)).toBe(true);
    expect(matches(agentJob.template.metadata.labels)).toBe(false);
  });

  it('gives both the token from one Secret key, whose template the coordinator would refuse', () => {
    for (const container of [coordinator, agent]) {
      expect(flag(container.args, '--token'), container.name).toBe('$(TOKEN)');
      expect(secretRef(container, 'TOKEN'), container.name).toEqual({ name: secret.metadata.name, key: 'token' });
    }
    expect(Object.keys(secret.stringData ?? {})).toEqual(['token']);
    expect(secret.stringData!.token!.length).toBeLessThan(16);
    expect(readFileSync(join(DIR, 'secret.yaml'), 'utf8')).toContain(
      `create secret generic ${secret.metadata.name} --from-literal=token=$(openssl rand -hex 16)`,
    );
  });

  it("mounts the ConfigMap's script where the coordinator reads it", () => {
    const mount = coordinator.volumeMounts!.find(
      (m) =>
        coordinatorJob.template.spec.volumes!.find((v) => v.name === m.name)?.configMap?.name === script.metadata.name,
    )!;
    expect(Object.keys(script.data!)).toEqual(['run.storm']);
    expect(coordinator.args.slice(0, 2)).toEqual(['run', `${mount.mountPath}/run.storm`]);
  });

  it("gives each agent the ports and the memory for its share of the script's users", () => {
    const users = Number(/^vus (\d+)$/m.exec(script.data!['run.storm']!)![1]);
    const perAgent = users / agentJob.completions!;
    expect(perAgent).toBe(50_000);
    expect(agentJob.template.spec.securityContext?.sysctls).toEqual([
      { name: 'net.ipv4.ip_local_port_range', value: '1024 65535' },
    ]);
    expect(65535 - 1024 + 1).toBeGreaterThanOrEqual(perAgent);
    // the user-space figure of the bench and the kernel's socket memory, both charged to the pod
    const needed = perAgent * COST_PER_CONNECTION_BYTES + 40 * 1024 ** 2;
    expect(bytes(agent.resources?.requests?.memory)).toBeGreaterThanOrEqual(needed);
    expect(bytes(agent.resources?.limits?.memory)).toBeGreaterThan(bytes(agent.resources?.requests?.memory));
  });

  it('builds an image whose entrypoint is the CLI, from files that exist', () => {
    const containerfile = readFileSync(join(DIR, 'Containerfile'), 'utf8');
    expect(containerfile).toMatch(/^ENTRYPOINT \["node", "console\/bin\.mjs"\]$/m);
    const sources = [...containerfile.matchAll(/^COPY (.+) \S+$/gm)].flatMap((m) => m[1]!.split(' '));
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) expect(existsSync(join(ROOT, source)), source).toBe(true);
    expect(coordinator.image).toBe(agent.image);
  });

  it('starts the agent with flags the CLI takes: with no coordinator there, it retries and gives up (1), not 104', async () => {
    const args = replaced(agent.args, { '--coordinator': 'ws://127.0.0.1:1', '--token': TOKEN, '--retry-for': '1' });
    const run = await runCli(args, { JOB_COMPLETION_INDEX: '7' }, 20_000);
    expect(run.stderr).toContain('giving up');
    expect(run.code).toBe(EXIT.error);
  });

  it('starts the coordinator with flags and a script the CLI takes: with no agents, 106 naming none', async () => {
    const file = join(temp, 'run.storm');
    writeFileSync(file, script.data!['run.storm']!);
    const target = flag(coordinator.args, '--target');
    const args = replaced(coordinator.args, {
      '--listen': '127.0.0.1:0',
      '--token': TOKEN,
      '--agents-timeout': '1',
      ...(target && !/^wss?:\/\/(127\.|localhost|\[::1\])/.test(target) ? { '--target': 'ws://127.0.0.1:1/' } : {}),
    });
    // the script the ConfigMap mounts, at a path of this host
    args[1] = file;
    const run = await runCli(args, {}, 20_000);
    expect(`${run.stdout}${run.stderr}`).toContain('0 of 20 agents joined');
    expect(run.code).toBe(EXIT.host);
  });
});
