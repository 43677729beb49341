import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { buildFloors } from '../../scripts/bench/floor.ts';
import { KUBEXIT, tmpfsDir } from '../../scripts/bench/helpers.ts';
import { interleave } from '../../scripts/bench/startup.ts';

/*
 * The start-up guard (CI, npm run test:bench): `kubexit -- true` against Node's floor executable
 * doing a supervisor's least (start the command, record its start and end, exit), the two
 * interleaved in the same run, so that both share the machine's noise. The bound is loose: the
 * two differ by 12–24 % (BENCHMARKS.md; the high end seen in CI right after the engine tests), so
 * only a clear regression trips it — a lazy module such as the Kubernetes client bundled into the
 * main script again, a blocking step before the command starts. The figures themselves belong
 * in BENCHMARKS.md.
 */
const BOUND = 1.5;
const ROUNDS = 40;
const ROOT = new URL('../..', import.meta.url).pathname;
const skip = !existsSync(join(ROOT, 'dist', 'kubexit'))
  ? 'dist/ is not built: run npm run build first'
  : spawnSync('strip', ['--version']).status !== 0
    ? 'no strip (binutils) to make the floor executable'
    : false;

t.test(
  `kubexit -- true takes at most ${BOUND}× the floor executable's time, in the same run`,
  { skip },
  async (t) => {
    const floors = buildFloors();
    const env = {
      KUBEXIT_NAME: 'guard',
      KUBEXIT_GRAVEYARD: tmpfsDir('guard').dir,
      KUBEXIT_LOG_LEVEL: 'error',
    };
    const run = interleave(
      [
        { label: 'floor', command: [floors.supervisor, 'true'], env },
        { label: 'kubexit', command: [KUBEXIT, '--', 'true'], env },
      ],
      ROUNDS,
    );
    const [floor, kubexit] = run.rows;
    const ratio = kubexit?.ratio?.median ?? Number.NaN;
    t.ok(
      ratio <= BOUND,
      `kubexit -- true ${kubexit?.ms.median.toFixed(1)} ms, the floor ${floor?.ms.median.toFixed(1)} ms: ${ratio.toFixed(2)}× (median of ${ROUNDS} rounds' ratios; bound ${BOUND}×)`,
    );
  },
);
