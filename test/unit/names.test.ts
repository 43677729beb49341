import t from 'tap';
import { containerNameProblem, isSafeName, nameProblem } from '../../src/core/model/names.ts';

t.test('a name is one safe file name in the shared graveyard', async (t) => {
  for (const name of ['main', 'queue-1', 'Main_1', 'a.b', '9lives', 'x'.repeat(253)])
    t.equal(nameProblem(name), undefined, `${name.slice(0, 20)} is fine`);
  t.match(nameProblem(''), /is empty/);
  t.match(nameProblem('a/b'), /contains "\/"/);
  for (const name of ['.hidden', '..', '-flag', 'a b', 'x'.repeat(254), 'tab\there'])
    t.equal(isSafeName(name), false, `${JSON.stringify(name.slice(0, 20))} is refused`);
});

t.test('a usable name that is no Kubernetes container name is only warned about', async (t) => {
  t.equal(containerNameProblem('queue-1'), undefined);
  t.match(containerNameProblem('Main_1'), /can't be a Kubernetes container name/);
  t.match(containerNameProblem('x'.repeat(64)), /at most 63/);
});
