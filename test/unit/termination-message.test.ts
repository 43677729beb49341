import t from 'tap';
import { endLife } from '../../src/core/life/ending.ts';
import {
  TERMINATION_MESSAGE_MAX_BYTES,
  terminationMessage,
} from '../../src/core/life/termination-message.ts';
import { FakeClock, FakePoster, MemoryLogger } from '../helpers/fakes.ts';

t.test(
  'the message names the exit code, the reason, the dependencies and what happened',
  async (t) => {
    const stopped = {
      exitCode: 0,
      reason: 'death-deps' as const,
      dependencies: ['main'],
      message:
        'child was killed by SIGTERM (exit 143); exiting 0 because death dependencies stopped it',
    };
    t.equal(
      terminationMessage(stopped),
      'kubexit: exit 0 (death-deps: main): child was killed by SIGTERM (exit 143); exiting 0 because death dependencies stopped it',
    );
    const exited = { exitCode: 3, reason: 'exited' as const, message: 'child exited with code 3' };
    t.equal(terminationMessage(exited), 'kubexit: exit 3 (exited): child exited with code 3');
  },
);

t.test('a message of several lines becomes one line', async (t) => {
  const config = {
    exitCode: 2,
    reason: 'config-error' as const,
    message: 'invalid configuration:\n  - KUBEXIT_A is bad\n  - KUBEXIT_B is bad',
  };
  t.equal(
    terminationMessage(config),
    'kubexit: exit 2 (config-error): invalid configuration:; - KUBEXIT_A is bad; - KUBEXIT_B is bad',
  );
});

t.test('credentials in URLs never reach the pod status', async (t) => {
  const failed = {
    exitCode: 2,
    reason: 'config-error' as const,
    message: 'KUBEXIT_SHUTDOWN_URLS lists "http://admin:s3cret@proxy:1/quit?token=abc", bad',
  };
  const line = terminationMessage(failed);
  t.notMatch(line, /s3cret|abc/);
  t.match(line, /http:\/\/\*\*\*@proxy:1\/quit\?token=\*\*\*/);
});

t.test('the message fits the kubelet’s 4096 bytes, cut between characters', async (t) => {
  const long = { exitCode: 1, reason: 'birth-timeout' as const, message: 'é'.repeat(5000) };
  const line = terminationMessage(long);
  t.ok(Buffer.byteLength(line) <= TERMINATION_MESSAGE_MAX_BYTES);
  t.ok(line.endsWith('…'));
  t.notOk(line.includes('\uFFFD'), 'no character cut in half');
});

t.test('every ending writes its message where the kubelet reads it', async (t) => {
  const written: string[] = [];
  const ports = {
    clock: new FakeClock(),
    logger: new MemoryLogger(),
    poster: new FakePoster(),
    terminationLog: { write: (line: string) => written.push(line) },
  };
  const outcome = { exitCode: 125, reason: 'internal-error' as const, message: 'oops' };
  t.equal(await endLife(outcome, {}, ports), 125);
  t.same(written, ['kubexit: exit 125 (internal-error): oops']);
});
