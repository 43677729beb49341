import { parse } from 'yaml';
import { SupervisorError } from '../../core/model/errors.ts';
import { EXIT_CODES } from '../../core/model/exit-codes.ts';
import type { ContainerRule } from '../inject/container-rules.ts';
import { PRESET_NAMES, PRESETS } from './presets.ts';

/**
 * The webhook's cluster-wide configuration (a ConfigMap mounted as a file, reloaded when it
 * changes): who its roles name, which pods it touches. Every field is optional:
 *
 * ```yaml
 * presets: [cloud-sql-proxy, vault-agent, airflow]  # default: every preset
 * sidecars: [{ name: log-shipper }, { image: "**\/fluent-bit:*" }]
 * mains: [{ name: main }]
 * restartPolicies: [Never, OnFailure]              # pods with these only (the default)
 * excludeNamespaces: [monitoring]                  # besides kube-system and the webhook's own
 * ```
 */
export interface WebhookConfig {
  readonly presets: readonly string[];
  readonly sidecarRules: readonly ContainerRule[];
  readonly mainRules: readonly ContainerRule[];
  readonly restartPolicies: readonly string[];
  readonly excludeNamespaces: readonly string[];
}

const FIELDS = ['presets', 'sidecars', 'mains', 'restartPolicies', 'excludeNamespaces'];
const RESTART_POLICIES = ['Never', 'OnFailure', 'Always'];

export const DEFAULT_CONFIG: WebhookConfig = configOf({});

/** Reads a configuration; a mistake is an error naming the file, the field and what is accepted. */
export function parseWebhookConfig(text: string, source: string): WebhookConfig {
  let data: unknown;
  try {
    data = text.trim() === '' ? {} : parse(text);
  } catch (error) {
    throw configError(source, `is not valid YAML (${(error as Error).message.split('\n')[0]})`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    throw configError(source, `must be a map of ${FIELDS.join(', ')}`);
  const unknown = Object.keys(data).filter((key) => !FIELDS.includes(key));
  if (unknown.length > 0)
    throw configError(
      source,
      `has ${unknown.join(', ')}, which it doesn't know: use ${FIELDS.join(', ')}`,
    );
  return configOf(data as Record<string, unknown>, source);
}

function configOf(data: Record<string, unknown>, source = 'the default'): WebhookConfig {
  const presets = words(data.presets, 'presets', source) ?? PRESET_NAMES;
  for (const name of presets)
    if (!PRESET_NAMES.includes(name))
      throw configError(source, `presets: ${name} is not a preset: use ${PRESET_NAMES.join(', ')}`);
  const restartPolicies = words(data.restartPolicies, 'restartPolicies', source) ?? [
    'Never',
    'OnFailure',
  ];
  for (const policy of restartPolicies)
    if (!RESTART_POLICIES.includes(policy))
      throw configError(
        source,
        `restartPolicies: ${policy} is not a restart policy: use ${RESTART_POLICIES.join(', ')}`,
      );
  return {
    presets,
    sidecarRules: [
      ...presets.flatMap((name) => PRESETS[name]?.sidecars ?? []),
      ...rules(data.sidecars, 'sidecars', source),
    ],
    mainRules: [
      ...presets.flatMap((name) => PRESETS[name]?.mains ?? []),
      ...rules(data.mains, 'mains', source),
    ],
    restartPolicies,
    excludeNamespaces: words(data.excludeNamespaces, 'excludeNamespaces', source) ?? [],
  };
}

function words(value: unknown, field: string, source: string): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string'))
    throw configError(source, `${field} must be a list of names`);
  return value;
}

function rules(value: unknown, field: string, source: string): ContainerRule[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value))
    throw configError(source, `${field} must be a list of { name, image }`);
  return value.map((item, index) => {
    const rule = item as Record<string, unknown> | null;
    const keys = rule !== null && typeof rule === 'object' ? Object.keys(rule) : [];
    const valid =
      keys.length > 0 &&
      keys.every((key) => (key === 'name' || key === 'image') && typeof rule?.[key] === 'string');
    if (!valid)
      throw configError(
        source,
        `${field}[${index}] must be { name: CONTAINER } or { image: PATTERN } (or both), strings`,
      );
    return rule as ContainerRule;
  });
}

function configError(source: string, message: string): SupervisorError {
  return new SupervisorError(`kubexit webhook: ${source} ${message}`, EXIT_CODES.config);
}
