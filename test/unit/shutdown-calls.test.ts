import t from 'tap';
import { callShutdownUrls } from '../../src/core/life/shutdown-calls.ts';
import { FakeClock, FakePoster, MemoryLogger } from '../helpers/fakes.ts';

const settle = () => new Promise((resolve) => setImmediate(resolve));

t.test('every URL is called at once; an answered call is logged', async (t) => {
  const ports = { poster: new FakePoster(), clock: new FakeClock(), logger: new MemoryLogger() };
  await callShutdownUrls(['http://a/quit', 'http://b/quit'], 10_000, ports);
  t.same(ports.poster.calls, ['http://a/quit', 'http://b/quit']);
  t.match(ports.logger.messages('info'), [
    /POST http:\/\/a\/quit: HTTP 200/,
    /POST http:\/\/b\/quit/,
  ]);
});

t.test('a failing endpoint is tried three times, with growing pauses, then named', async (t) => {
  const ports = { poster: new FakePoster(), clock: new FakeClock(), logger: new MemoryLogger() };
  ports.poster.answer = () => ({ ok: false, detail: 'ECONNREFUSED' });
  const done = callShutdownUrls(['http://a/quit'], 10_000, ports);
  await settle();
  t.equal(ports.poster.calls.length, 1);
  ports.clock.advance(200);
  await settle();
  t.equal(ports.poster.calls.length, 2, 'the second after 200 ms');
  ports.clock.advance(399);
  await settle();
  t.equal(ports.poster.calls.length, 2);
  ports.clock.advance(1);
  await settle();
  t.equal(ports.poster.calls.length, 3, 'the third 400 ms later');
  await done;
  t.match(ports.logger.messages('warn'), [
    /POST http:\/\/a\/quit failed after 3 attempts: ECONNREFUSED/,
  ]);
});

t.test('never longer than the total: a hanging endpoint is given up at the deadline', async (t) => {
  const ports = { poster: new FakePoster(), clock: new FakeClock(), logger: new MemoryLogger() };
  ports.poster.answer = () => new Promise(() => {});
  let ended = false;
  const done = callShutdownUrls(['http://hangs/quit'], 1_000, ports).then(() => {
    ended = true;
  });
  await settle();
  ports.clock.advance(999);
  await settle();
  t.equal(ended, false);
  ports.clock.advance(1);
  await done;
  t.match(ports.logger.messages('warn'), [/still unanswered after 1000ms: exiting anyway/]);
});

t.test('no URLs: nothing called, nothing waited for', async (t) => {
  const ports = { poster: new FakePoster(), clock: new FakeClock(), logger: new MemoryLogger() };
  await callShutdownUrls([], 1_000, ports);
  t.same(ports.poster.calls, []);
  t.equal(ports.clock.pendingTimers, 0);
});
