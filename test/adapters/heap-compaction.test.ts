import t, { type Test } from 'tap';
import {
  COMPACT_AFTER_MS,
  COMPACT_EVERY_MS,
  COMPACT_SPREAD_MS,
  scheduleCompaction,
} from '../../src/adapters/heap-compaction.ts';
import { FakeClock, FakeHeap, MemoryLogger } from '../helpers/fakes.ts';

function randomIs(t: Test, value: number): void {
  const random = Math.random;
  Math.random = () => value;
  t.teardown(() => {
    Math.random = random;
  });
}

function setup() {
  const clock = new FakeClock();
  const heap = new FakeHeap();
  const logger = new MemoryLogger();
  return { clock, heap, logger, stop: scheduleCompaction(heap, clock, logger) };
}

t.test("start-up's garbage is given back 1-3 s after start, then every minute", async (t) => {
  for (const [random, at] of [
    [0, COMPACT_AFTER_MS],
    [0.5, COMPACT_AFTER_MS + COMPACT_SPREAD_MS / 2],
    [0.9999, COMPACT_AFTER_MS + COMPACT_SPREAD_MS - 1],
  ] as const) {
    await t.test(`a supervisor that drew ${random}`, async (t) => {
      randomIs(t, random);
      const { clock, heap, logger, stop } = setup();
      clock.advance(at - 1);
      t.equal(heap.compactions, 0, 'not while start-up may still be going on');
      clock.advance(1);
      t.equal(heap.compactions, 1, `at ${at} ms`);
      t.match(
        logger.messages('debug').at(-1),
        /heap compacted, start-up's garbage given back \(2\.5 ms\); again every 1m/,
      );
      clock.advance(COMPACT_EVERY_MS - 1);
      t.equal(heap.compactions, 1);
      clock.advance(1);
      t.equal(heap.compactions, 2);
      for (let minute = 0; minute < 5; minute++) clock.advance(COMPACT_EVERY_MS);
      t.equal(heap.compactions, 7);
      t.equal(logger.messages().filter((line) => line.includes('heap compacted')).length, 1);
      stop();
      t.equal(clock.pendingTimers, 0, 'no compaction once stopped (the supervisor ended)');
    });
  }
});

t.test(
  'a container that ends sooner costs no compaction, and leaves no timer behind',
  async (t) => {
    const { clock, heap, stop } = setup();
    clock.advance(COMPACT_AFTER_MS - 1);
    stop();
    t.equal(clock.pendingTimers, 0);
    clock.advance(COMPACT_AFTER_MS + COMPACT_SPREAD_MS);
    t.equal(heap.compactions, 0);
  },
);

t.test('a runtime without the collector says nothing and stops trying', async (t) => {
  const clock = new FakeClock();
  const heap = new FakeHeap();
  heap.unavailable = true;
  const logger = new MemoryLogger();
  scheduleCompaction(heap, clock, logger);
  clock.advance(COMPACT_AFTER_MS + COMPACT_SPREAD_MS);
  t.notOk(logger.messages().some((line) => line.includes('heap compacted')));
  t.equal(clock.pendingTimers, 0, 'no further attempt');
});
