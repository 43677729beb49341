/*
 * A local "pod" without a cluster: each container is a kubexit process, and the containers share
 * a temporary directory as their graveyard, as they would share an emptyDir. It plays the
 * queue-sidecar / forwarder Job three times: the main succeeds, the main fails, and the main
 * finishes before the sidecar has even started.
 *
 *   npm run demo
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const KUBEXIT = fileURLToPath(new URL('../../bin/kubexit.js', import.meta.url));
const COLORS = process.stdout.isTTY ? ['\x1b[36m', '\x1b[33m'] : ['', ''];
const RESET = process.stdout.isTTY ? '\x1b[0m' : '';
const BOLD = process.stdout.isTTY ? '\x1b[1m' : '';

/**
 * The queue sidecar: takes a moment to start, says it is ready by writing a file (its kubexit
 * readiness check waits for it), serves until told to stop, then drains.
 */
function queueCommand(readyFile: string): string[] {
  const serve = 'trap "echo draining, bye; exit 0" TERM; while :; do sleep 0.1 & wait; done';
  return [
    'sh',
    '-c',
    `echo "starting"; sleep 0.5; echo "listening on :5672"; echo ok > ${readyFile}; ${serve}`,
  ];
}

/** The forwarder: moves a few batches, then exits with the given code. */
function forwarder(code: number): string[] {
  const work = 'for i in 1 2 3; do echo "forwarded batch $i"; sleep 0.2; done';
  return [
    'sh',
    '-c',
    `${work}; ${code === 0 ? 'echo done' : `echo "upstream rejected batch 3" >&2; exit ${code}`}`,
  ];
}

interface Running {
  readonly name: string;
  readonly exited: Promise<number>;
}

/** Starts one container of the pod, prefixing its output with its name. */
function container(
  graveyard: string,
  name: string,
  env: Record<string, string>,
  command: string[],
  color: number,
): Running {
  const child: ChildProcess = spawn(process.execPath, [KUBEXIT, ...command], {
    env: { ...process.env, KUBEXIT_NAME: name, KUBEXIT_GRAVEYARD: graveyard, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const label = `${COLORS[color]}${name.padEnd(9)}|${RESET} `;
  for (const stream of [child.stdout, child.stderr]) {
    let buffered = '';
    stream?.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) process.stdout.write(`${label}${line}\n`);
    });
  }
  const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 1)));
  return { name, exited };
}

/** What the Job controller would conclude: the pod succeeded only if every container exited 0. */
async function report(containers: Running[], expected: string): Promise<void> {
  const codes = await Promise.all(containers.map((c) => c.exited));
  const rows = containers.map((c, i) => `${c.name}=${codes[i]}`).join(', ');
  const phase = codes.every((code) => code === 0) ? 'Succeeded' : 'Failed';
  console.log(
    `${BOLD}=> exit codes: ${rows}; pod phase: ${phase} (expected ${expected})${RESET}\n`,
  );
  if (phase !== expected) process.exitCode = 1;
}

/** Runs one scenario with a fresh graveyard and a fresh shared volume, as a new pod would have. */
async function scenario(
  title: string,
  play: (graveyard: string, readyFile: string) => Promise<void>,
): Promise<void> {
  console.log(`${BOLD}## ${title}${RESET}`);
  const graveyard = mkdtempSync(join(tmpdir(), 'kubexit-demo-'));
  const shared = mkdtempSync(join(tmpdir(), 'kubexit-demo-shared-'));
  try {
    await play(graveyard, join(shared, 'queue-ready'));
  } finally {
    rmSync(graveyard, { recursive: true, force: true });
    rmSync(shared, { recursive: true, force: true });
  }
}

function sidecarEnv(readyFile: string): Record<string, string> {
  return {
    KUBEXIT_DEATH_DEPS: 'forwarder',
    KUBEXIT_READY_CHECK: `file://${readyFile}`,
    KUBEXIT_READY_INTERVAL: '100ms',
  };
}
const mainEnv = { KUBEXIT_BIRTH_DEPS: 'queue' };

await scenario(
  '1. The forwarder waits until the queue is ready, succeeds; the queue is stopped and the Job succeeds',
  async (graveyard, readyFile) => {
    const queue = container(graveyard, 'queue', sidecarEnv(readyFile), queueCommand(readyFile), 0);
    const main = container(graveyard, 'forwarder', mainEnv, forwarder(0), 1);
    await report([queue, main], 'Succeeded');
    console.log(
      `The queue's tombstone (${graveyard}/queue):\n${readFileSync(join(graveyard, 'queue'), 'utf8')}`,
    );
  },
);

await scenario(
  '2. The forwarder fails: the Job fails with its exit code, the sidecar still stops cleanly',
  async (graveyard, readyFile) => {
    const queue = container(graveyard, 'queue', sidecarEnv(readyFile), queueCommand(readyFile), 0);
    const main = container(graveyard, 'forwarder', mainEnv, forwarder(3), 1);
    await report([queue, main], 'Failed');
  },
);

await scenario(
  '3. The race the original kubexit loses: the forwarder ends before the sidecar starts; the sidecar does not hang',
  async (graveyard, readyFile) => {
    const main = container(graveyard, 'forwarder', {}, forwarder(0), 1);
    await main.exited;
    const queue = container(graveyard, 'queue', sidecarEnv(readyFile), queueCommand(readyFile), 0);
    await report([queue, main], 'Succeeded');
  },
);
