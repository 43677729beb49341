import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { FileTerminationLog } from '../../src/adapters/termination-log.ts';
import { MemoryLogger } from '../helpers/fakes.ts';

function log(path: string) {
  const logger = new MemoryLogger();
  return { logger, terminationLog: new FileTerminationLog(path, logger) };
}

t.test('an empty file (as the kubelet mounts it) gets the message', async (t) => {
  const path = join(t.testdir({ 'termination-log': '' }), 'termination-log');
  log(path).terminationLog.write('kubexit: exit 3 (exited): child exited with code 3');
  t.equal(readFileSync(path, 'utf8'), 'kubexit: exit 3 (exited): child exited with code 3');
});

t.test('a missing file is never created (a host, Docker)', async (t) => {
  const path = join(t.testdir(), 'termination-log');
  const { logger, terminationLog } = log(path);
  terminationLog.write('kubexit: exit 0 (exited): child exited with code 0');
  t.notOk(existsSync(path));
  t.match(logger.messages('debug'), [/does not exist/]);
});

t.test('a message the command wrote itself is kept', async (t) => {
  const path = join(t.testdir({ 'termination-log': '{"results":[1]}' }), 'termination-log');
  const { logger, terminationLog } = log(path);
  terminationLog.write('kubexit: exit 0 (exited): child exited with code 0');
  t.equal(readFileSync(path, 'utf8'), '{"results":[1]}');
  t.match(logger.messages('debug'), [/wrote a message of its own/]);
});

t.test(
  'a directory, a FIFO with no reader or an unwritable file: nothing, no error, no hang',
  async (t) => {
    const dir = t.testdir();
    mkdirSync(join(dir, 'a-directory'));
    t.equal(spawnSync('mkfifo', [join(dir, 'fifo')]).status, 0);
    for (const path of [join(dir, 'a-directory'), join(dir, 'fifo'), '/proc/version']) {
      const { logger, terminationLog } = log(path);
      t.doesNotThrow(() => terminationLog.write('kubexit: exit 0 (exited): x'), path);
      t.match(logger.messages('debug'), [/termination message not written/], path);
    }
  },
);
