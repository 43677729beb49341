import t from 'tap';
import {
  deadBirthDeps,
  deathTrigger,
  pendingBirthDeps,
} from '../../src/core/model/dependency-rules.ts';
import type { Tombstone } from '../../src/core/model/tombstone.ts';

const born: Tombstone = { born: '2026-01-01T00:00:00Z' };
const dead: Tombstone = { born: '2026-01-01T00:00:00Z', died: '2026-01-01T00:00:01Z', exitCode: 0 };

t.test('a birth dependency is satisfied only while alive', async (t) => {
  const snapshot = new Map<string, Tombstone | undefined>([
    ['a', born],
    ['b', dead],
    ['c', undefined],
  ]);
  t.same(pendingBirthDeps(['a', 'b', 'c', 'd'], snapshot), ['b', 'c', 'd']);
  t.same(deadBirthDeps(['a', 'b', 'c'], snapshot), ['b']);
});

t.test('policy any stops on the first death; all waits for every one', async (t) => {
  const oneDead = new Map<string, Tombstone | undefined>([
    ['a', dead],
    ['b', born],
  ]);
  const allDead = new Map<string, Tombstone | undefined>([
    ['a', dead],
    ['b', dead],
  ]);
  t.same(deathTrigger(['a', 'b'], 'any', oneDead), ['a']);
  t.equal(deathTrigger(['a', 'b'], 'all', oneDead), undefined);
  t.same(deathTrigger(['a', 'b'], 'all', allDead), ['a', 'b']);
  t.equal(deathTrigger([], 'any', allDead), undefined);
});

t.test('a tombstone with Died but no Born counts as dead', async (t) => {
  const snapshot = new Map<string, Tombstone | undefined>([
    ['a', { died: '2026-01-01T00:00:01Z', exitCode: 2 }],
  ]);
  t.same(deathTrigger(['a'], 'any', snapshot), ['a']);
});

t.test(
  'in API mode a birth dependency is ready when the pod status says so, as in kubexit',
  async (t) => {
    const pending: Tombstone = { born: '2026-01-01T00:00:00Z', readiness: 'pending' };
    const snapshot = new Map<string, Tombstone | undefined>([
      ['born', born],
      ['checking', pending],
      ['absent', undefined],
    ]);
    const names = ['born', 'checking', 'absent', 'native'];
    t.same(pendingBirthDeps(names, snapshot, new Set()), names, 'nothing is ready yet');
    t.same(
      pendingBirthDeps(names, snapshot, new Set(['born', 'checking', 'absent', 'native'])),
      ['checking'],
      'ready per the API, except a wrapped one whose own check has not passed',
    );
    t.same(pendingBirthDeps(names, snapshot, new Set(['native'])), ['born', 'checking', 'absent']);
  },
);
