import t from 'tap';
import { exitCodeOf } from '../../src/core/model/child-exit.ts';

t.test("exit code is the child's code, or 128+N for a signal", async (t) => {
  t.equal(exitCodeOf({ exitCode: 0 }), 0);
  t.equal(exitCodeOf({ exitCode: 3 }), 3);
  t.equal(exitCodeOf({ signal: 'SIGTERM' }), 143);
  t.equal(exitCodeOf({ signal: 'SIGKILL' }), 137);
  t.equal(exitCodeOf({ signal: 'SIGINT' }), 130);
});

t.test('an unknown signal still gives a code that says a signal ended it', async (t) => {
  t.equal(exitCodeOf({ signal: 'SIGNOPE' }), 128);
});
