import { readFileSync } from 'node:fs';
import t from 'tap';
import { readInterpreter, writeInterpreter } from '../../src/commands/elf-interpreter.ts';

// The Node binary the tests run on is a real dynamically linked ELF executable.
const node = readFileSync(process.execPath);

t.test('reads the interpreter of a real executable', async (t) => {
  t.match(readInterpreter(node), /^\/lib.*\/ld-linux-(x86-64|aarch64)\.so\.[12]$/);
});

t.test('rewrites it in place when the new path fits, and refuses one that does not', async (t) => {
  const copy = Buffer.from(node);
  const original = readInterpreter(copy);
  writeInterpreter(copy, '/k/ld.so');
  t.equal(readInterpreter(copy), '/k/ld.so');
  t.equal(copy.length, node.length, 'no bytes added or removed');
  t.throws(
    () => writeInterpreter(copy, `/${'x'.repeat(original.length + 10)}`),
    /longer than the \d+ bytes reserved/,
  );
});

t.test('refuses what is not an ELF executable', async (t) => {
  t.throws(
    () => readInterpreter(Buffer.from('#!/bin/sh\necho hi\n'.padEnd(128))),
    /not a 64-bit little-endian ELF/,
  );
});
