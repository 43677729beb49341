import t from 'tap';
import { Container } from '../helpers/kubexit.ts';
import { scratchDir } from '../helpers/temp.ts';

// The harness's promise: kubexit under test runs as users run it, without the test runner's
// NODE_OPTIONS (tap puts its own module there for every process the tests spawn).
t.test('kubexit under test and its child run without the runner’s NODE_OPTIONS', async (t) => {
  t.match(process.env.NODE_OPTIONS ?? '', /@tapjs/, 'the runner does set it');
  const graveyard = scratchDir('kubexit-harness-');
  const ended = await new Container(['sh', '-c', 'printenv NODE_OPTIONS || echo unset'], {
    KUBEXIT_NAME: 'main',
    KUBEXIT_GRAVEYARD: graveyard,
  }).finished;
  t.equal(ended.code, 0);
  t.equal(ended.stdout, 'unset\n');
});
