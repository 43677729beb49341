import { chmodSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { ProcessLauncher } from '../../src/adapters/process-launcher.ts';
import { isRunning, waitFor } from '../helpers/wait.ts';

const launcher = new ProcessLauncher();

async function start(command: string, args: string[]) {
  const launched = await launcher.launch(command, args);
  if (!launched.ok) throw new Error(`launch failed: ${launched.message}`);
  return launched.child;
}

t.test("reports the child's exit code", async (t) => {
  const child = await start('sh', ['-c', 'exit 3']);
  t.same(await child.exited, { exitCode: 3 });
});

t.test('reports the signal that killed the child', async (t) => {
  const child = await start('sh', ['-c', 'kill -USR2 $$']);
  t.same(await child.exited, { signal: 'SIGUSR2' });
});

t.test('runs without a shell: arguments are passed verbatim', async (t) => {
  const dir = t.testdir();
  const out = join(dir, 'out');
  const child = await start('sh', ['-c', 'printf "%s|" "$@" > "$0"', out, '$HOME', '*', 'a b']);
  await child.exited;
  t.equal(readFileSync(out, 'utf8'), '$HOME|*|a b|');
});

t.test('signals reach the whole process group, grandchildren included', async (t) => {
  const dir = t.testdir();
  const pidFile = join(dir, 'pid');
  const child = await start('sh', ['-c', `sleep 300 & echo $! > ${pidFile}; wait`]);
  const sleepPid = Number(await waitFor(() => safeRead(pidFile), 'grandchild pid'));
  t.ok(isRunning(sleepPid));
  child.signalGroup('SIGTERM');
  t.same(await child.exited, { signal: 'SIGTERM' });
  await waitFor(() => !isRunning(sleepPid), 'grandchild to be gone');
  t.pass('the grandchild received the signal too');
});

t.test('signalling a group that is gone is not an error', async (t) => {
  const child = await start('true', []);
  await child.exited;
  t.doesNotThrow(() => child.signalGroup('SIGTERM'));
});

t.test('a missing command is ENOENT, a non-executable file EACCES', async (t) => {
  t.match(await launcher.launch('kubexit-no-such-command', []), { ok: false, errorCode: 'ENOENT' });
  const dir = t.testdir({ script: '#!/bin/sh\nexit 0\n' });
  chmodSync(join(dir, 'script'), 0o644);
  t.match(await launcher.launch(join(dir, 'script'), []), { ok: false, errorCode: 'EACCES' });
  t.match(await launcher.launch(dir, []), { ok: false, errorCode: 'EACCES' });
});

function safeRead(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
}
