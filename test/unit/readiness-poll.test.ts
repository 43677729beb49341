import t from 'tap';
import { pollUntilReady } from '../../src/core/life/readiness-poll.ts';
import { parseCheck } from '../../src/core/model/checks.ts';
import { FakeClock, FakeProber } from '../helpers/fakes.ts';

const settle = () => new Promise((resolve) => setImmediate(resolve));

function check(text: string) {
  const parsed = parseCheck(text);
  if (!parsed.ok) throw new Error(parsed.problem);
  return parsed.check;
}

t.test(
  'one attempt at a time, the next an interval after the last ended, until one passes',
  async (t) => {
    const clock = new FakeClock();
    const prober = new FakeProber();
    const results: string[] = [];
    const tcp = check('tcp://localhost:5672');
    const poll = pollUntilReady(
      tcp,
      { prober, clock },
      {
        intervalMs: 500,
        timeoutMs: 2000,
        onResult: (result) => results.push(result.detail),
      },
    );
    let ready = false;
    void poll.ready.then(() => {
      ready = true;
    });
    await settle();
    t.equal(prober.attempts.length, 1, 'the first attempt at once');
    clock.advance(499);
    await settle();
    t.equal(prober.attempts.length, 1, 'no second attempt before the interval');
    clock.advance(1);
    await settle();
    t.equal(prober.attempts.length, 2);
    prober.results.set(tcp.text, { ok: true, detail: 'connected' });
    clock.advance(500);
    await settle();
    t.equal(ready, true, 'ready once an attempt passes');
    t.same(results, ['ECONNREFUSED', 'ECONNREFUSED', 'connected']);
    clock.advance(5000);
    await settle();
    t.equal(prober.attempts.length, 3, 'and no attempt after that');
    t.equal(clock.pendingTimers, 0);
  },
);

t.test('cancelled: no more attempts, and never ready', async (t) => {
  const clock = new FakeClock();
  const prober = new FakeProber();
  const poll = pollUntilReady(
    check('tcp://localhost:1'),
    { prober, clock },
    {
      intervalMs: 100,
      timeoutMs: 100,
    },
  );
  let ready = false;
  void poll.ready.then(() => {
    ready = true;
  });
  await settle();
  poll.cancel();
  clock.advance(1000);
  await settle();
  t.equal(prober.attempts.length, 1);
  t.equal(ready, false);
});
