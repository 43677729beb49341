import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:https';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { startSlowRegistry } from '../../test/helpers/slow-registry.ts';
import { childrenOf, cpuMs, KUBEXIT, ROOT } from './helpers.ts';
import { type Summary, summarize } from './stats.ts';

/**
 * Admissions per second and their latency, as the API server sees them: `dist/kubexit webhook`
 * answering AdmissionReviews over HTTPS on kept-alive connections, 16 at a time, from a client in
 * this process (which shares the machine's cores with it: the figures are what this machine does
 * with both). Pods that need no registry lookup, and pods whose image's command is in the cache.
 */
export interface WebhookCase {
  readonly label: string;
  readonly rounds: ReadonlyArray<{
    /** Saturated: CONCURRENCY requests always waiting. */
    perSecond: number;
    webhookCpuMs: number;
    wallMs: number;
    /** Offered at RATE per second, as pods arrive: each admission's latency. */
    latency: Summary;
  }>;
}

const CONCURRENCY = 16;
const TLS = join(ROOT, 'test', 'helpers', 'tls');

export async function measureWebhook(rounds: number, perRound: number): Promise<WebhookCase[]> {
  // A loopback registry serving any image at once: the webhook reads it once, then from its cache.
  const registry = await startSlowRegistry(0);
  const webhook = spawn(
    KUBEXIT,
    [
      'webhook',
      '--listen=127.0.0.1:0',
      `--tls-cert-file=${join(TLS, 'localhost.crt')}`,
      `--tls-key-file=${join(TLS, 'localhost.key')}`,
      '--kubernetes-version=1.28',
      '--shutdown-delay=0s',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  // Its first lines, until it listens; the rest (a line per admission) is read and dropped.
  let stderr = '';
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the webhook did not start: ${stderr}`)),
      10_000,
    );
    webhook.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length > 65_536) return;
      stderr += chunk.toString();
      const found = /listening on 127\.0\.0\.1:(\d+)/.exec(stderr);
      if (found !== null) {
        clearTimeout(timer);
        resolve(Number(found[1]));
      }
    });
  });
  const agent = new Agent({
    keepAlive: true,
    maxSockets: CONCURRENCY,
    ca: readFileSync(join(TLS, 'localhost.crt')),
  });
  const pods = {
    noLookup: podOf([{ name: 'app', image: 'registry.example/app:1', command: ['app'] }]),
    cachedLookup: podOf([{ name: 'app', image: `${registry.host}/team/app:1` }]),
  };
  const cases: Array<{ label: string; body: string; rounds: WebhookCase['rounds'][number][] }> = [
    {
      label: 'a Job pod with a sidecar, commands given (no registry lookup)',
      body: review(pods.noLookup),
      rounds: [],
    },
    {
      label: "the same, one container without command (its image's command cached)",
      body: review(pods.cachedLookup),
      rounds: [],
    },
  ];
  try {
    for (const entry of cases) await drive(port, agent, entry.body, 200); // warm up, fill the cache
    // Interleaved: each round runs every case, so that a noisy moment hits them alike.
    for (let round = 0; round < rounds; round++)
      for (const entry of cases) {
        const pid = webhook.pid as number;
        const before = treeCpuMs(pid);
        const started = performance.now();
        await drive(port, agent, entry.body, perRound);
        const wallMs = performance.now() - started;
        const webhookCpuMs = treeCpuMs(pid) - before;
        if (webhookCpuMs > wallMs * cpus().length + 20)
          throw new Error(
            `inconsistent: ${webhookCpuMs} ms of CPU in ${wallMs.toFixed(0)} ms on ${cpus().length} cores`,
          );
        const latencies = await offer(port, agent, entry.body, Math.min(perRound, RATE * 4));
        entry.rounds.push({
          perSecond: (perRound / wallMs) * 1000,
          latency: summarize(latencies),
          webhookCpuMs,
          wallMs,
        });
      }
  } finally {
    agent.destroy();
    webhook.kill('SIGTERM');
    await registry.stop();
  }
  return cases.map(({ label, rounds: measured }) => ({ label, rounds: measured }));
}

/** The admissions offered per second in the latency rounds: the target rate. */
const RATE = 500;

/** CPU of a process and of its children (the front and the Node it starts). */
function treeCpuMs(pid: number): number {
  return cpuMs(pid) + childrenOf(pid).reduce((sum, child) => sum + treeCpuMs(child), 0);
}

/**
 * `count` admissions sent at RATE per second whatever the answers (open loop, as pods arrive at
 * an API server), on the kept-alive connections; each one's latency in ms.
 */
async function offer(port: number, agent: Agent, body: string, count: number): Promise<number[]> {
  const latencies: number[] = [];
  const pending: Array<Promise<void>> = [];
  const started = performance.now();
  for (let sent = 0; sent < count; ) {
    const due = Math.min(count, Math.floor(((performance.now() - started) * RATE) / 1000) + 1);
    for (; sent < due; sent++) {
      const at = performance.now();
      pending.push(
        post(port, agent, body).then((status) => {
          if (status !== 200) throw new Error(`HTTP ${status}`);
          latencies.push(performance.now() - at);
        }),
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  await Promise.all(pending);
  return latencies;
}

/** `count` admissions, CONCURRENCY at a time; each one's latency in ms. */
async function drive(port: number, agent: Agent, body: string, count: number): Promise<number[]> {
  const latencies: number[] = [];
  let sent = 0;
  const worker = async () => {
    while (sent < count) {
      sent++;
      const started = performance.now();
      const status = await post(port, agent, body);
      if (status !== 200) throw new Error(`HTTP ${status}`);
      latencies.push(performance.now() - started);
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return latencies;
}

function post(port: number, agent: Agent, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const call = request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path: '/mutate',
        agent,
        servername: 'localhost',
        headers: { 'content-type': 'application/json' },
      },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      },
    );
    call.on('error', reject);
    call.end(body);
  });
}

function podOf(mains: Array<Record<string, unknown>>): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { generateName: 'nightly-', annotations: { 'kubexit.io/sidecars': 'proxy' } },
    spec: {
      restartPolicy: 'Never',
      containers: [
        ...mains,
        {
          name: 'proxy',
          image: 'registry.example/proxy:1',
          command: ['proxy'],
          readinessProbe: { tcpSocket: { port: 5432 } },
        },
      ],
    },
  };
}

function review(object: unknown): string {
  return JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid: 'bench',
      kind: { group: '', version: 'v1', kind: 'Pod' },
      resource: { group: '', version: 'v1', resource: 'pods' },
      namespace: 'jobs',
      operation: 'CREATE',
      object,
    },
  });
}

const ms = (value: number) => (value < 10 ? value.toFixed(2) : value.toFixed(1));

/** The report's section: each case over the rounds, the targets for the one without lookups. */
export function webhookSection(cases: readonly WebhookCase[], context: string): string[] {
  const row = (entry: WebhookCase) => ({
    rates: summarize(entry.rounds.map((round) => round.perSecond)),
    p50: summarize(entry.rounds.map((round) => round.latency.median)),
    p99: summarize(entry.rounds.map((round) => round.latency.p99)),
    cpu: summarize(entry.rounds.map((round) => (round.webhookCpuMs / round.wallMs) * 100)),
  });
  const [plain] = cases;
  const target = plain === undefined ? undefined : row(plain);
  const met = target !== undefined && target.rates.min >= 500 && target.p99.max <= 20;
  return [
    '## Admission webhook: AdmissionReviews over HTTPS',
    '',
    context,
    '',
    `| Pods | admissions/s, ${CONCURRENCY} at a time | p50 ms at ${RATE}/s | p99 ms at ${RATE}/s | webhook CPU at full rate, % of one core |`,
    '| --- | --- | --- | --- | --- |',
    ...cases.map((entry) => {
      const { rates, p50, p99, cpu } = row(entry);
      return `| ${entry.label} | ${rates.median.toFixed(0)} (${rates.min.toFixed(0)}–${rates.max.toFixed(0)}) | ${ms(p50.median)} (${ms(p50.min)}–${ms(p50.max)}) | ${ms(p99.median)} (${ms(p99.min)}–${ms(p99.max)}) | ${cpu.median.toFixed(0)} |`;
    }),
    '',
    `Target, pods needing no registry lookup: ≥ 500 admissions/s and p99 ≤ 20 ms, in every round: ${met ? 'met' : '**missed**'} (slowest round ${target?.rates.min.toFixed(0)}/s, worst p99 ${ms(target?.p99.max ?? Number.NaN)} ms). Admissions per second: as fast as ${CONCURRENCY} connections kept busy get answers. Latency: admissions sent at ${RATE} per second whatever the answers, as pods reach an API server. The client runs on the same ${cpus().length} cores: a cluster's API server would not take them from the webhook.`,
    '',
    '',
  ];
}
