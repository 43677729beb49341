import t from 'tap';
import { EXIT_CODES } from '../../src/core/model/exit-codes.ts';

t.test("kubexit's own codes keep clear of the child's signals and follow the shell", async (t) => {
  t.equal(EXIT_CODES.notFound, 127, 'as the shell: command not found');
  t.equal(EXIT_CODES.notExecutable, 126, 'as the shell: found, not executable');
  t.equal(EXIT_CODES.internal, 125, 'as container runtimes: the runner itself failed');
  t.equal(EXIT_CODES.config, 2, 'as command-line tools: usage');
  t.equal(EXIT_CODES.birthTimeout, 1, "as the original kubexit's birth timeout");
  for (const code of Object.values(EXIT_CODES)) t.ok(code < 128, `${code} is no signal's 128+N`);
});
