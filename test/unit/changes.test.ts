import t from 'tap';
import { Changes } from '../../src/core/life/changes.ts';

t.test('notify() wakes every waiter once; a later next() waits for the next change', async (t) => {
  const changes = new Changes();
  const woken: string[] = [];
  const a = changes.next().then(() => woken.push('a'));
  const b = changes.next().then(() => woken.push('b'));
  await Promise.resolve();
  t.same(woken, [], 'nobody wakes before a change');
  changes.notify();
  await Promise.all([a, b]);
  t.same(woken.sort(), ['a', 'b']);
  let later = false;
  void changes.next().then(() => {
    later = true;
  });
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(later, false, 'an earlier change does not count for a later waiter');
  changes.notify();
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(later, true);
});
