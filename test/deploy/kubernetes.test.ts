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
interface SecurityContext {
  runAsNonRoot?: boolean;
  runAsUser?: number;
  runAsGroup?: number;
  seccompProfile?: { type: string };
  allowPrivilegeEscalation?: boolean;
  capabilities?: { drop?: string[]; add?: string[] };
  readOnlyRootFilesystem?: boolean;
  privileged?: boolean;
  sysctls?: Array<{ name: string; value: string }>;
}
interface Container {
  name: string;
  image: string;
  args: string[];
  env?: EnvVar[];
  securityContext?: SecurityContext;
  ports?: Array<{ name?: string; containerPort: number }>;
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  volumeMounts?: Array<{ name: string; mountPath: string }>;
}
interface PodSpec {
  restartPolicy?: string;
  automountServiceAccountToken?: boolean;
  hostNetwork?: boolean;
  hostPID?: boolean;
  hostIPC?: boolean;
  initContainers?: Container[];
  containers: Container[];
  securityContext?: SecurityContext;
  volumes?: Array<{ name: string; configMap?: { name: string }; emptyDir?: object; [kind: string]: unknown }>;
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
    const kustomization = load('kustomization.yaml')[0] as Resource & {
      namespace: string;
      resources: string[];
      configMapGenerator: Array<{ name: string; files: string[]; options: { labels: Record<string, string> } }>;
    };
    expect(kustomization.kind).toBe('Kustomization');
    // the Secret's template and the Operator's PodMonitor (its CRDs may not be there) are applied on their own
    expect(kustomization.resources.sort()).toEqual(
      files.filter((f) => !['kustomization.yaml', 'secret.yaml', 'podmonitor.yaml'].includes(f)).sort(),
    );
    const [dashboard] = kustomization.configMapGenerator;
    expect(dashboard!.options.labels.grafana_dashboard).toBe('1');
    expect(dashboard!.files.map((f) => JSON.parse(readFileSync(join(DIR, f), 'utf8')).uid)).toEqual(['sockstorm']);
    expect(kustomization.namespace).toBe(find(load('namespace.yaml'), 'Namespace').metadata.name);
    expect(coordinatorDocs.map((r) => r.kind).sort()).toEqual(['ConfigMap', 'Job', 'NetworkPolicy', 'Service']);
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

  it('gives both the token from one Secret key in SOCKSTORM_TOKEN, never in argv, whose template the coordinator would refuse', () => {
    for (const container of [coordinator, agent]) {
      expect(container.args, container.name).not.toContain('--token');
      expect(container.args.join(' '), container.name).not.toMatch(/\$\(/);
      expect(secretRef(container, 'SOCKSTORM_TOKEN'), container.name).toEqual({
        name: secret.metadata.name,
        key: 'token',
      });
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

  // the restricted Pod Security Standard, rule by rule, for every pod of every manifest
  const pods = files.flatMap((f) =>
    load(f).flatMap((r) =>
      r.kind === 'Job' ? [{ where: `${f} ${r.metadata.name}`, spec: (r.spec as JobSpec).template.spec }] : [],
    ),
  );
  const RESTRICTED_VOLUMES = [
    'configMap',
    'csi',
    'downwardAPI',
    'emptyDir',
    'ephemeral',
    'persistentVolumeClaim',
    'projected',
    'secret',
  ];
  const SAFE_SYSCTLS = [
    'kernel.shm_rmid_forced',
    'net.ipv4.ip_local_port_range',
    'net.ipv4.ip_unprivileged_port_start',
    'net.ipv4.tcp_syncookies',
    'net.ipv4.ping_group_range',
  ];

  it('runs every pod at the restricted Pod Security level: non-root, seccomp, no escalation, no capabilities, read-only root', () => {
    expect(pods.map((p) => p.where).sort()).toEqual([
      'agents.yaml sockstorm-agents',
      'coordinator.yaml sockstorm-coordinator',
    ]);
    for (const { where, spec } of pods) {
      expect(spec.securityContext?.runAsNonRoot, where).toBe(true);
      expect(spec.securityContext?.runAsUser, where).toBeGreaterThan(0);
      expect(spec.securityContext?.seccompProfile?.type, where).toBe('RuntimeDefault');
      expect(spec.automountServiceAccountToken, where).toBe(false);
      expect([spec.hostNetwork, spec.hostPID, spec.hostIPC].filter(Boolean), where).toEqual([]);
      for (const sysctl of spec.securityContext?.sysctls ?? []) expect(SAFE_SYSCTLS, where).toContain(sysctl.name);
      for (const volume of spec.volumes ?? [])
        expect(RESTRICTED_VOLUMES, `${where} volume ${volume.name}`).toContain(
          Object.keys(volume).find((k) => k !== 'name'),
        );
      for (const container of [...(spec.initContainers ?? []), ...spec.containers]) {
        const at = `${where} ${container.name}`;
        const context = container.securityContext ?? {};
        expect(context.allowPrivilegeEscalation, at).toBe(false);
        expect(context.capabilities?.drop, at).toEqual(['ALL']);
        expect(context.capabilities?.add ?? [], at).toEqual([]);
        expect(context.readOnlyRootFilesystem, at).toBe(true);
        expect(context.privileged, at).not.toBe(true);
        expect(context.runAsUser ?? 1, at).not.toBe(0);
        expect(context.runAsNonRoot, at).not.toBe(false);
        expect(
          (container.ports ?? []).filter((p) => 'hostPort' in p),
          at,
        ).toEqual([]);
        // a read-only root: what the program writes goes to a volume at /tmp
        const tmp = container.volumeMounts?.find((m) => m.mountPath === '/tmp');
        expect(spec.volumes?.find((v) => v.name === tmp?.name)?.emptyDir, at).toBeDefined();
      }
    }
  });

  it("admits only the agents to the coordinator's port, with a NetworkPolicy", () => {
    const policy = find(coordinatorDocs, 'NetworkPolicy').spec as {
      podSelector: { matchLabels: Record<string, string> };
      policyTypes: string[];
      ingress: Array<{
        from: Array<{
          podSelector?: { matchLabels: Record<string, string> };
          namespaceSelector?: unknown;
          ipBlock?: unknown;
        }>;
        ports: Array<{ port: number | string }>;
      }>;
    };
    expect(policy.podSelector.matchLabels).toEqual(coordinatorJob.template.metadata.labels);
    expect(policy.policyTypes).toContain('Ingress');
    const agentsPort = Number(flag(coordinator.args, '--listen')!.split(':').pop());
    const toAgents = policy.ingress.filter((rule) =>
      rule.ports.some((p) => Number(p.port) === agentsPort || p.port === 'agents'),
    );
    expect(toAgents.length).toBe(1);
    expect(toAgents[0]!.from).toEqual([{ podSelector: { matchLabels: agentJob.template.metadata.labels } }]);
  });

  it("lets Prometheus scrape the coordinator's /metrics: by annotations, by the PodMonitor, through the NetworkPolicy", () => {
    const port = Number(flag(coordinator.args, '--metrics-port'));
    expect(flag(coordinator.args, '--metrics-host')).toBe('0.0.0.0');
    expect(coordinator.ports?.find((p) => p.name === 'metrics')?.containerPort).toBe(port);
    const annotations =
      (coordinatorJob.template.metadata as { annotations?: Record<string, string> }).annotations ?? {};
    expect(annotations).toEqual({
      'prometheus.io/scrape': 'true',
      'prometheus.io/port': String(port),
      'prometheus.io/path': '/metrics',
    });
    const monitor = find(load('podmonitor.yaml'), 'PodMonitor').spec as {
      selector: { matchLabels: Record<string, string> };
      podMetricsEndpoints: Array<{ port: string; path: string; interval: string }>;
    };
    expect(monitor.selector.matchLabels).toEqual(coordinatorJob.template.metadata.labels);
    expect(monitor.podMetricsEndpoints).toEqual([{ port: 'metrics', path: '/metrics', interval: '15s' }]);
    const policy = find(coordinatorDocs, 'NetworkPolicy').spec as {
      ingress: Array<{ ports: Array<{ port: number }> }>;
    };
    expect(policy.ingress.some((rule) => rule.ports.some((p) => p.port === port))).toBe(true);
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
    const args = replaced(agent.args, { '--coordinator': 'ws://127.0.0.1:1', '--retry-for': '1' });
    const run = await runCli(args, { JOB_COMPLETION_INDEX: '7', SOCKSTORM_TOKEN: TOKEN }, 20_000);
    expect(run.stderr).toContain('giving up');
    expect(run.code).toBe(EXIT.error);
  });

  it('starts the coordinator with flags and a script the CLI takes: with no agents, 106 naming none', async () => {
    const file = join(temp, 'run.storm');
    writeFileSync(file, script.data!['run.storm']!);
    const target = flag(coordinator.args, '--target');
    const args = replaced(coordinator.args, {
      '--listen': '127.0.0.1:0',
      '--metrics-port': '0',
      '--metrics-host': '127.0.0.1',
      '--agents-timeout': '1',
      ...(target && !/^wss?:\/\/(127\.|localhost|\[::1\])/.test(target) ? { '--target': 'ws://127.0.0.1:1/' } : {}),
    });
    // the script the ConfigMap mounts, at a path of this host
    args[1] = file;
    const run = await runCli(args, { SOCKSTORM_TOKEN: TOKEN }, 20_000);
    expect(`${run.stdout}${run.stderr}`).toContain('0 of 20 agents joined');
    expect(run.code).toBe(EXIT.host);
  });
});
