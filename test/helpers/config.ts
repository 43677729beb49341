import { type Config, parseConfig } from '../../src/core/model/config.ts';
import type { OptionKey } from '../../src/core/model/options.ts';

/** A validated config from plain values, as if given by environment variables. */
export function configOf(values: Partial<Record<OptionKey, string>>, command = ['app']): Config {
  const entries = Object.entries(values).map(([key, value]) => [key, { value, source: key }]);
  return parseConfig({
    values: { name: { value: 'me', source: 'name' }, ...Object.fromEntries(entries) },
    command,
  });
}
