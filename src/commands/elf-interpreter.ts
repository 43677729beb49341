/*
 * Reads and rewrites the interpreter (PT_INTERP) of a 64-bit little-endian ELF executable — both
 * linux/amd64 and linux/arm64 — in place. The portable bundle's executable names its own loader
 * by absolute path, and that path depends on where the bundle is mounted; the build reserves a
 * long PT_INTERP so `kubexit install` can point it at the install location without restructuring
 * the file (patchelf isn't available in the images that install kubexit). Written by hand: no
 * maintained npm library edits ELF program headers.
 */
const PT_INTERP = 3;

interface InterpreterField {
  readonly offset: number;
  readonly size: number;
}

function interpreterField(elf: Buffer): InterpreterField {
  const isElf64LittleEndian = elf.readUInt32BE(0) === 0x7f454c46 && elf[4] === 2 && elf[5] === 1;
  if (!isElf64LittleEndian) throw new Error('not a 64-bit little-endian ELF executable');
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const phentsize = elf.readUInt16LE(0x36);
  const phnum = elf.readUInt16LE(0x38);
  for (let index = 0; index < phnum; index++) {
    const header = phoff + index * phentsize;
    if (elf.readUInt32LE(header) !== PT_INTERP) continue;
    return {
      offset: Number(elf.readBigUInt64LE(header + 8)),
      size: Number(elf.readBigUInt64LE(header + 32)),
    };
  }
  throw new Error('the executable has no interpreter (it is statically linked)');
}

/** The interpreter path of an executable. */
export function readInterpreter(elf: Buffer): string {
  const { offset, size } = interpreterField(elf);
  const field = elf.subarray(offset, offset + size);
  const end = field.indexOf(0);
  return field.subarray(0, end < 0 ? size : end).toString('utf8');
}

/** Writes a new interpreter path into the reserved field, padding with NULs. */
export function writeInterpreter(elf: Buffer, path: string): void {
  const { offset, size } = interpreterField(elf);
  const bytes = Buffer.from(path, 'utf8');
  if (bytes.length + 1 > size) {
    throw new Error(
      `the interpreter path ${path} is longer than the ${size - 1} bytes reserved for it; install into a shorter path`,
    );
  }
  elf.fill(0, offset, offset + size);
  bytes.copy(elf, offset);
}
