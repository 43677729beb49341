import { EventEmitter } from 'node:events';
import t from 'tap';
import { createStderrSink, type QueueingStream } from '../../src/adapters/stderr-sink.ts';

/** A stream that records what it is given and drains when told. */
class FakeStream extends EventEmitter implements QueueingStream {
  readonly chunks: string[] = [];
  writableLength = 0;
  write(chunk: Uint8Array | string): boolean {
    this.chunks.push(Buffer.from(chunk).toString('utf8'));
    this.writableLength += chunk.length;
    return false;
  }
  drained(): void {
    this.writableLength = 0;
    this.emit('drain');
  }
}

const failing = (code: string) => Object.assign(new Error(code), { code }) as NodeJS.ErrnoException;

t.test('short writes are continued until the whole line is out', async (t) => {
  const written: string[] = [];
  const sink = createStderrSink((bytes) => {
    const taken = Math.min(3, bytes.length);
    written.push(Buffer.from(bytes.subarray(0, taken)).toString('utf8'));
    return taken;
  });
  sink.write('hello world\n');
  t.equal(written.join(''), 'hello world\n');
  await sink.flush();
});

t.test(
  'a full non-blocking pipe: the rest of the line and every later one wait in order',
  async (t) => {
    const stream = new FakeStream();
    let calls = 0;
    const sink = createStderrSink(
      () => {
        calls += 1;
        if (calls === 1) return 6; // "first " fits, then the pipe is full
        throw failing('EAGAIN');
      },
      () => stream,
    );
    sink.write('first line\n');
    sink.write('second line\n');
    t.same(stream.chunks, ['line\n', 'second line\n'], 'queued in order, nothing lost');
    t.equal(calls, 2, 'fd 2 is not tried again once lines wait in the queue');
    let flushed = false;
    const flushing = sink.flush().then(() => {
      flushed = true;
    });
    await Promise.resolve();
    t.notOk(flushed, 'the exit waits for the queue');
    stream.drained();
    await flushing;
    t.ok(flushed);
  },
);

t.test(
  'a log reader that went away (EPIPE) or a closed stderr costs the line, nothing else',
  async (t) => {
    for (const code of ['EPIPE', 'EBADF']) {
      let used = false;
      const sink = createStderrSink(
        () => {
          throw failing(code);
        },
        () => {
          used = true;
          return new FakeStream();
        },
      );
      t.doesNotThrow(() => sink.write('lost\n'), code);
      t.notOk(used, `${code}: nothing queued`);
      await sink.flush();
    }
  },
);
