/*
 * npm run bench [-- --quick] [-- --out FILE] [-- --previous DIR LABEL] [-- --only webhook]
 *
 * Measures what kubexit costs a pod, side by side with the alternatives, on this machine, and
 * writes the report to BENCHMARKS.md (or FILE). Needs dist/kubexit (npm run build) and a C
 * compiler for the timing helper; tini and dumb-init are compared when installed.
 * --quick runs every measurement briefly: it checks the benchmark works, its figures mean little.
 * --previous DIR LABEL measures an earlier build too (DIR/kubexit, e.g. a worktree of an earlier
 * commit after npm run build; LABEL says which), interleaved with this one, and reports the two
 * side by side.
 * --only webhook measures the admission webhook alone and replaces its section of the report.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { join } from 'node:path';
import { COMPACT_AFTER_MS, COMPACT_SPREAD_MS } from '../../src/adapters/heap-compaction.ts';
import { MIN_SETTLE_MS, measureDeathReaction, measureLossReaction, SETTLE_MS } from './death.ts';
import { buildFloors } from './floor.ts';
import {
  buildStamp,
  KUBEXIT,
  originalKubexit,
  type PreviousBuild,
  ROOT,
  requireBuilt,
} from './helpers.ts';
import { type IdleRow, measureIdle, SAMPLE_MS } from './idle.ts';
import { describeLoad, type Load, measureScale } from './scale.ts';
import { measureSize } from './size.ts';
import { measureStartup, type Startup } from './startup.ts';
import type { Summary } from './stats.ts';
import { measureWebhook, webhookSection } from './webhook.ts';

const quick = process.argv.includes('--quick');
const outIndex = process.argv.indexOf('--out');
const out = outIndex > 0 ? (process.argv[outIndex + 1] as string) : join(ROOT, 'BENCHMARKS.md');
const previousIndex = process.argv.indexOf('--previous');
const previous: PreviousBuild | undefined =
  previousIndex > 0
    ? {
        kubexit: join(process.argv[previousIndex + 1] as string, 'kubexit'),
        label: process.argv[previousIndex + 2] ?? 'previous',
      }
    : undefined;
const plan = quick
  ? {
      startupRounds: 3,
      deathTrials: 3,
      lossTrials: 3,
      idleInstances: 1,
      idleSeconds: 1,
      settleMs: 250,
      scale: [3],
    }
  : {
      startupRounds: 30,
      deathTrials: 100,
      lossTrials: 30,
      idleInstances: 3,
      idleSeconds: 180,
      settleMs: SETTLE_MS,
      scale: [10, 100],
    };
/** The loaded scale cases: one busy loop per core (every core contended), and two fsyncing writers. */
const LOADS: Load[] = [
  { kind: 'cpu', processes: cpus().length },
  { kind: 'io', processes: 2 },
];

const ms = (value: number) => (value < 10 ? value.toFixed(2) : value.toFixed(1));
const spread = (s: Summary) => `${ms(s.median)} (${ms(s.min)}–${ms(s.max)})`;
const mib = (bytes: number) =>
  bytes < 2 ** 20 ? `${(bytes / 1024).toFixed(0)} KiB` : `${(bytes / 2 ** 20).toFixed(1)} MiB`;
const verdict = (met: boolean) => (met ? 'met' : '**missed**');

function log(message: string): void {
  process.stderr.write(`bench: ${message}\n`);
}

async function run(): Promise<string> {
  requireBuilt();
  const loadBefore = loadavg();
  const original = originalKubexit({ build: !quick });
  log(
    original === undefined
      ? 'the original kubexit (Go) is not available: not compared'
      : `the original kubexit (Go): ${original}`,
  );
  const stamp = buildStamp();
  log('sizes');
  const sizes = measureSize();
  log(`startup (${plan.startupRounds} rounds)`);
  log("Node's floor: single executables that do nothing, and a supervisor's least");
  const floors = buildFloors();
  const startup = measureStartup(plan.startupRounds, floors, original, previous);
  log(`death reaction (${plan.deathTrials} trials, inotify)`);
  const inotify = await measureDeathReaction(
    stamp,
    plan.deathTrials,
    'auto',
    '100ms',
    KUBEXIT,
    plan.settleMs,
  );
  let previousDeath: Summary | undefined;
  if (previous !== undefined) {
    log(`death reaction (${plan.deathTrials} trials, inotify): the previous build`);
    previousDeath = await measureDeathReaction(
      stamp,
      plan.deathTrials,
      'auto',
      '100ms',
      previous.kubexit,
      plan.settleMs,
    );
  }
  log(`death reaction (${plan.deathTrials} trials, polling every 100ms)`);
  const polling = await measureDeathReaction(
    stamp,
    plan.deathTrials,
    'poll',
    '100ms',
    KUBEXIT,
    plan.settleMs,
  );
  const originalDeath =
    original === undefined
      ? undefined
      : await measureDeathReaction(
          stamp,
          plan.deathTrials,
          'auto',
          '100ms',
          original,
          plan.settleMs,
        );
  log(`loss reaction (${plan.lossTrials} trials: the main container SIGKILLed)`);
  const loss = await measureLossReaction(stamp, plan.lossTrials, plan.settleMs);
  log(`idle (${plan.idleSeconds}s)`);
  const idle = await measureIdle(plan.idleInstances, plan.idleSeconds, floors, original, previous);
  const scale = [];
  for (const n of plan.scale) {
    log(`scale (${n} sidecars)`);
    scale.push(await measureScale(stamp, n));
  }
  const most = plan.scale.at(-1) as number;
  const loaded = [];
  for (const load of LOADS) {
    log(`scale (${most} sidecars, ${describeLoad(load)} competing)`);
    loaded.push(await measureScale(stamp, most, load));
  }
  scale.push(...loaded);
  const slowest = loaded.reduce((a, b) => (a.lastExitMs >= b.lastExitMs ? a : b));

  const loadAfter = loadavg();
  const startupRow = (start: string) => startup.rows.find((row) => row.label.startsWith(start));
  const node = startupRow('node -e')?.ms.median ?? Number.NaN;
  const kubexit = startupRow('dist/kubexit')?.ms.median ?? Number.NaN;
  const startupRatio = startupRow('dist/kubexit')?.ratio?.median ?? Number.NaN;
  const floorRatio = startupRow("Node single executable doing a supervisor's")?.ratio?.median;
  const idleRow = (start: string) => idle.find((row) => row.label.startsWith(start));
  const bareNode = idleRow('bare idle node')?.rssMiB.median ?? Number.NaN;
  const bareNodePrivate = idleRow('bare idle node')?.privateMiB.median ?? Number.NaN;
  const idleFloor = idleRow('Node single executable');
  const idleInotify = idleRow('dist/kubexit waiting, inotify');
  const idlePrivate = idleInotify?.privateMiB.median ?? 0;
  const largest = scale.filter((row) => row.load.kind === 'none').at(-1);
  const lines = [
    '# Benchmarks',
    '',
    `Produced by \`npm run bench${quick ? ' -- --quick' : ''}\` on ${new Date().toISOString().slice(0, 10)}.`,
    `Machine: ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${release()}, Node ${process.version} (the Node inside dist/kubexit).`,
    original === undefined
      ? 'The original kubexit (Go) is not compared here: set KUBEXIT_GO to its binary.'
      : "The original kubexit (Go; karlkfi/kubexit at ee51470, built with Debian's Go) is compared where it can be: it has no readiness or liveness of its own.",
    `Load average (1, 5, 15 min) at the start: ${loadBefore.map((v) => v.toFixed(2)).join(', ')}; at the end: ${loadAfter.map((v) => v.toFixed(2)).join(', ')} (the end includes the benchmark's own loaded cases).`,
    'Each figure: median (min–max) over repeated runs taken side by side in the same run.',
    '',
    '## Targets',
    '',
    '| What | Target | Measured | |',
    '| --- | --- | --- | --- |',
    `| Startup, \`kubexit -- true\` | ≤ 1.3 × \`node -e 0\` | ${startupRatio.toFixed(2)} × (median of the rounds' ratios; medians ${ms(kubexit)} ms vs ${ms(node)} ms); Node's own floor for a supervisor ${floorRatio?.toFixed(2)} × | ${verdict(startupRatio <= 1.3)} |`,
    `| Death reaction p50 / p99, inotify | ≤ 5 / ≤ 10 ms | ${ms(inotify.median)} / ${ms(inotify.p99)} ms | ${verdict(inotify.median <= 5 && inotify.p99 <= 10)} |`,
    `| Death reaction p99, polling every 100 ms | ≤ 110 ms | ${ms(polling.p99)} ms | ${verdict(polling.p99 <= 110)} |`,
    `| Loss reaction p99: the main container SIGKILLed, no tombstone | ≤ 1 s | ${ms(loss.p99)} ms | ${verdict(loss.p99 <= 1000)} |`,
    `| Idle resident memory, highest over ${plan.idleSeconds} s | ≤ 1.2 × bare idle node | ${((idleInotify?.rssMiB.median ?? 0) / bareNode).toFixed(2)} × (${ms(idleInotify?.rssMiB.median ?? 0)} MiB vs ${ms(bareNode)} MiB); Node's own floor for a supervisor ${((idleFloor?.rssMiB.median ?? 0) / bareNode).toFixed(2)} × | ${verdict((idleInotify?.rssMiB.median ?? 0) <= 1.2 * bareNode)} |`,
    `| Idle private (anonymous) memory, highest over ${plan.idleSeconds} s | ≤ 1.3 × bare idle node | ${(idlePrivate / bareNodePrivate).toFixed(2)} × (${ms(idlePrivate)} MiB vs ${ms(bareNodePrivate)} MiB); Node's own floor for a supervisor ${((idleFloor?.privateMiB.median ?? 0) / bareNodePrivate).toFixed(2)} × | ${verdict(idlePrivate <= 1.3 * bareNodePrivate)} |`,
    `| Idle CPU, inotify, over ${plan.idleSeconds} s | ~0 | ${ms(idleInotify?.cpuMs.median ?? 0)} ms | ${verdict((idleInotify?.cpuMs.median ?? 0) <= 20 * (plan.idleSeconds / 30) + 10)} |`,
    `| ${largest?.sidecars} sidecars all exited after the main's death | ≤ 2 s | ${ms(largest?.lastExitMs ?? 0)} ms | ${verdict((largest?.lastExitMs ?? 0) <= 2000)} |`,
    `| The same under load (slowest: ${describeLoad(slowest.load)}) | ≤ 2 s | ${ms(slowest.lastExitMs)} ms | ${verdict(slowest.lastExitMs <= 2000)} |`,
    '',
    ...comparison(previous, startup, inotify, previousDeath, idle),
    '## Startup: wall time from exec to exit, wrapping `true`',
    '',
    `The graveyard is ${startup.tmpfsGraveyard ? "on a tmpfs (/dev/shm), as a pod's is with inject's wiring (emptyDir, medium Memory)" : "on the temporary directory's filesystem (no tmpfs at /dev/shm here): writes cost more than in a pod whose graveyard is in memory"}.`,
    '',
    '| Command | ms | × `node -e 0` (per round) |',
    '| --- | --- | --- |',
    ...startup.rows.map(
      (row) =>
        `| ${row.label} | ${spread(row.ms)} | ${row.ratio === undefined ? '' : `${row.ratio.median.toFixed(2)} (${row.ratio.min.toFixed(2)}–${row.ratio.max.toFixed(2)})`} |`,
    ),
    '',
    `${startup.kept} rounds kept; ${startup.dropped} thrown away because other processes used more than ${ms(startup.toleranceMs)} ms of CPU during them${startup.disturbedUsed > 0 ? `; the machine was too busy for enough quiet rounds, so ${startup.disturbedUsed} disturbed ones (the least disturbed) were used as well: these figures are not reliable` : ''}.`,
    '',
    '## Death reaction latency: main tombstone renamed → sidecar child receives SIGTERM',
    '',
    '| Watch | trials | p50 ms | p99 ms | min–max ms |',
    '| --- | --- | --- | --- | --- |',
    `| inotify | ${inotify.n} | ${ms(inotify.median)} | ${ms(inotify.p99)} | ${ms(inotify.min)}–${ms(inotify.max)} |`,
    `| polling every 100 ms | ${polling.n} | ${ms(polling.median)} | ${ms(polling.p99)} | ${ms(polling.min)}–${ms(polling.max)} |`,
    `| lost: the main container SIGKILLed, no tombstone (liveness socket) | ${loss.n} | ${ms(loss.median)} | ${ms(loss.p99)} | ${ms(loss.min)}–${ms(loss.max)} |`,
    ...(originalDeath === undefined
      ? []
      : [
          `| the original kubexit (Go), fsnotify | ${originalDeath.n} | ${ms(originalDeath.median)} | ${ms(originalDeath.p99)} | ${ms(originalDeath.min)}–${ms(originalDeath.max)} |`,
        ]),
    '',
    `## Idle cost: waiting for a death dependency, ${plan.idleSeconds} s, ${plan.idleInstances} instance(s) each`,
    '',
    '| Process | resident MiB (highest) | of which private MiB (highest) | CPU ms |',
    '| --- | --- | --- | --- |',
    ...idle.map(
      (row) =>
        `| ${row.label} | ${spread(row.rssMiB)} | ${spread(row.privateMiB)} | ${spread(row.cpuMs)} |`,
    ),
    '',
    '## Scale: N sidecars on one graveyard, stopped when the main dies',
    '',
    '| Sidecars | competing load | last one exited after (ms) | CPU used by all of them (ms) |',
    '| --- | --- | --- | --- |',
    ...scale.map(
      (row) =>
        `| ${row.sidecars} | ${describeLoad(row.load)} | ${ms(row.lastExitMs)} | ${row.cpuMs}${row.cpuSource === 'machine' ? ' (whole machine)' : ''} |`,
    ),
    '',
    '## Size',
    '',
    '| Artifact | size | gzip -9 |',
    '| --- | --- | --- |',
    ...sizes.map((row) => `| ${row.label} | ${mib(row.bytes)} | ${mib(row.gzipBytes)} |`),
    '',
    '## Method',
    '',
    "- Startup: each command runs once per round, in a new random order every round (a command that always ran after the same one would inherit its effects on the caches), so all share the same machine noise; the ratio is the median of each round's kubexit / `node -e 0`. Node's own floor: single executables made exactly as kubexit's (same Node, V8 flags, code cache), one doing nothing, one doing the least a supervisor must (start the command, record its start and end in a file, pass SIGTERM on, exit with its code); kubexit from source is timed in rounds of its own (a 120 ms process slows whatever follows it). A round during which other processes used more than a tenth of a core (at least 30 ms, /proc/stat's resolution), read from /proc/stat minus the benchmark's own CPU and its children's, is thrown away and run again.",
    `- Death reaction: a C helper reads CLOCK_REALTIME just before \`rename()\` puts the main tombstone in place (for a loss: just before it SIGKILLs every process of the main container); the sidecar's child, also C, reads the same clock in its SIGTERM handler. Each trial starts a fresh supervisor and lets it idle between ${ms(MIN_SETTLE_MS / 1000)} and ${ms(plan.settleMs / 1000)} s (drawn anew each trial), so that deaths come before, during and after kubexit's first heap compaction (${COMPACT_AFTER_MS / 1000}-${(COMPACT_AFTER_MS + COMPACT_SPREAD_MS) / 1000} s after start), as a sidecar waits while its main container works.`,
    `- Idle: every process waits ${plan.idleSeconds} s; kubexit and the floor executable as a sidecar whose main container is born and alive (kubexit re-reads its tombstone every 2 s, as in a running Job). Memory is sampled every ${SAMPLE_MS / 1000} s and each instance's highest sample is reported: a memory limit is about the peak, and an idle process that allocates a little now and then grows until a collection. kubexit is its native front plus the Node it starts, both counted; resident memory counts the pages of the executable files that are mapped in (shared between the containers of a pod that run the same installed files, and reclaimable); the supervised child is a separate process and not counted.`,
    "- Scale: the sidecars run under one shell in a CPU-accounting cgroup, whose usage just before the death and after the last exit gives the CPU of all of them, fronts and Nodes, over the same span as the wall time reported (the whole machine's busy time when no cgroup can be made, marked so); CPU ≤ wall time × cores holds by construction. The loaded cases start their load 1 s before the death (outside that span) and stop it after the last sidecar has exited; the load runs outside the cgroup.",
    '',
  ];
  return lines.join('\n');
}

/** This build and the previous one, side by side, from the same run. */
function comparison(
  previous: PreviousBuild | undefined,
  startup: Startup,
  death: Summary,
  previousDeath: Summary | undefined,
  idle: IdleRow[],
): string[] {
  if (previous === undefined || previousDeath === undefined) return [];
  const ratioOf = (start: string) =>
    startup.rows.find((row) => row.label.startsWith(start))?.ratio?.median ?? Number.NaN;
  const idleOf = (start: string) => idle.find((row) => row.label.startsWith(start));
  const now = idleOf('dist/kubexit waiting, inotify');
  const before = idleOf('the previous build');
  const row = (what: string, a: number, b: number, unit: string, digits = 2) =>
    `| ${what} | ${a.toFixed(digits)}${unit} | ${b.toFixed(digits)}${unit} | ${b === 0 ? '–' : (a / b).toFixed(3)} |`;
  return [
    `## This build and the previous one (${previous.label}), measured in the same run`,
    '',
    '| What | this build | previous build | this / previous |',
    '| --- | --- | --- | --- |',
    row(
      'Startup, × `node -e 0` (median of the rounds)',
      ratioOf('dist/kubexit'),
      ratioOf('the previous build'),
      ' ×',
    ),
    row('Death reaction p50, inotify', death.median, previousDeath.median, ' ms'),
    row('Death reaction p99, inotify', death.p99, previousDeath.p99, ' ms'),
    row(
      'Idle resident memory (highest)',
      now?.rssMiB.median ?? 0,
      before?.rssMiB.median ?? 0,
      ' MiB',
      1,
    ),
    row(
      'Idle private memory (highest)',
      now?.privateMiB.median ?? 0,
      before?.privateMiB.median ?? 0,
      ' MiB',
    ),
    row('Idle CPU', now?.cpuMs.median ?? 0, before?.cpuMs.median ?? 0, ' ms', 0),
    '',
  ];
}

const WEBHOOK_ROUNDS = quick ? 1 : 5;
const WEBHOOK_ADMISSIONS = quick ? 300 : 3000;

/** The webhook's section, measured now, with the machine and its load. */
async function webhookReport(): Promise<string[]> {
  const before = loadavg();
  log(`admission webhook (${WEBHOOK_ROUNDS} rounds of ${WEBHOOK_ADMISSIONS} admissions per case)`);
  const cases = await measureWebhook(WEBHOOK_ROUNDS, WEBHOOK_ADMISSIONS);
  const after = loadavg();
  const how = `npm run bench${process.argv.includes('--only') ? ' -- --only webhook' : ''}${quick ? ` ${process.argv.includes('--only') ? '' : '-- '}--quick` : ''}`;
  const context = `Measured on ${new Date().toISOString().slice(0, 10)} by \`${how}\`, ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, with dist/kubexit; load average (1 min) ${before[0]?.toFixed(2)} before, ${after[0]?.toFixed(2)} after. Each figure: median (min–max) over ${WEBHOOK_ROUNDS} rounds of ${WEBHOOK_ADMISSIONS} admissions, the cases interleaved; p50 and p99 are each round's, over its admissions at 500 per second. The webhook in wrap mode (the more work: inject's whole plan), logging a line per admission.`;
  return webhookSection(cases, context);
}

/** Replaces the webhook's section of an existing report (or adds it before ## Size). */
function withWebhookSection(report: string, section: string[]): string {
  const start = report.indexOf('## Admission webhook');
  const text = section.join('\n');
  if (start >= 0) {
    const end = report.indexOf('\n## ', start + 1);
    return report.slice(0, start) + text + (end < 0 ? '' : report.slice(end + 1));
  }
  const size = report.indexOf('## Size');
  return size < 0 ? `${report}\n${text}` : report.slice(0, size) + text + report.slice(size);
}

if (process.argv.includes('--only')) requireBuilt();
const report = process.argv.includes('--only')
  ? withWebhookSection(readFileSync(out, 'utf8'), await webhookReport())
  : withWebhookSection(await run(), await webhookReport());
writeFileSync(out, report);
process.stdout.write(`${report}\n`);
log(`written to ${out}`);
