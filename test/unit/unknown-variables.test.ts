import t from 'tap';
import { unknownVariables } from '../../src/core/model/unknown-variables.ts';

t.test('a misspelt KUBEXIT_ variable is named with the known name nearest to it', async (t) => {
  t.same(
    unknownVariables({
      KUBEXIT_BIRTH_DEP: 'queue',
      KUBEXIT_DEATHDEPS: 'main',
      KUBEXIT_GRACEPERIOD: '5s',
      KUBEXIT_SOMETHING_ELSE_ENTIRELY: 'x',
      KUBEXIT_NAME: 'main',
      PATH: '/bin',
    }),
    [
      { name: 'KUBEXIT_BIRTH_DEP', nearest: 'KUBEXIT_BIRTH_DEPS' },
      { name: 'KUBEXIT_DEATHDEPS', nearest: 'KUBEXIT_DEATH_DEPS' },
      { name: 'KUBEXIT_GRACEPERIOD', nearest: 'KUBEXIT_GRACE_PERIOD' },
      { name: 'KUBEXIT_SOMETHING_ELSE_ENTIRELY' },
    ],
  );
});

t.test('known and internal variables are never reported', async (t) => {
  t.same(
    unknownVariables({ KUBEXIT_NAME: 'a', KUBEXIT_READY_FD: '3', KUBEXIT_CALLED_AS: 'cp' }),
    [],
  );
});
