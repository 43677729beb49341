import type { RawOptions } from '../core/model/options.ts';

/** What the command line asks for: a run, an answer (help, version), or a correction. */
export type CommandLine =
  | { readonly kind: 'run'; readonly raw: RawOptions }
  | { readonly kind: 'exit'; readonly code: number; readonly output: string }
  /** The command line itself is wrong; `raw` holds what could be read of it. */
  | { readonly kind: 'invalid'; readonly problem: string; readonly raw: RawOptions };
