import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { binCommand, testRunnerEnv } from '../helpers/kubexit.ts';
import { scratchDir } from '../helpers/temp.ts';

t.test('a log reader that went away (EPIPE) costs the lines, never the supervisor', async (t) => {
  const graveyard = scratchDir('kubexit-stderr-');
  const [command, ...prefix] = binCommand();
  const child = spawn(command as string, [...prefix, 'sh', '-c', 'sleep 0.2; exit 3'], {
    env: {
      ...testRunnerEnv(),
      KUBEXIT_NAME: 'main',
      KUBEXIT_GRAVEYARD: graveyard,
      KUBEXIT_LOG_LEVEL: 'debug',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  // Nobody reads the logs: every line kubexit writes meets EPIPE.
  child.stderr?.destroy();
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  t.equal(code, 3, "the child's exit code");
  t.match(readFileSync(join(graveyard, 'main'), 'utf8'), /ExitCode: 3/, 'the tombstone');
});
