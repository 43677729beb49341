import { cachedDataVersionTag } from 'node:v8';
import t from 'tap';
import { V8Heap } from '../../src/adapters/v8-heap.ts';

/** The tag V8 checks code caches against, before anything here touched the flags it hashes. */
const TAG_AT_START = cachedDataVersionTag();

t.test("compacts the heap with V8's collector, as often as asked", async (t) => {
  const heap = new V8Heap();
  const first = heap.compact();
  t.type(first, 'number', 'the collector was found and ran');
  t.ok((first ?? -1) >= 0);
  t.type(heap.compact(), 'number', 'and runs again');
  t.type(new V8Heap().compact(), 'number', 'another instance finds it too');
});

t.test('leaves the flags as they were, so every code cache is still accepted', async (t) => {
  new V8Heap().compact();
  // With --expose-gc left set the tag would differ, and V8 would refuse the code caches of
  // Node's own modules, and kubexit's, loaded from then on.
  t.equal(cachedDataVersionTag(), TAG_AT_START);
  t.equal((globalThis as { gc?: unknown }).gc, undefined, "no gc in kubexit's own global scope");
});
