import { type Container, nameOf } from './data.ts';

/**
 * A container named by a rule of a cluster-wide configuration (the webhook's): by its name, its
 * image, or both. An image pattern is a glob over the whole reference: `*` matches any run of
 * characters but `/`, `**` any run at all (`**\/cloud-sql-proxy:*` matches every registry's).
 */
export interface ContainerRule {
  readonly name?: string;
  readonly image?: string;
}

/** Whether a container matches a rule: every field the rule gives. */
export function matchesRule(container: Container, rule: ContainerRule): boolean {
  if (rule.name === undefined && rule.image === undefined) return false;
  if (rule.name !== undefined && nameOf(container) !== rule.name) return false;
  return rule.image === undefined || globOf(rule.image).test(String(container.image ?? ''));
}

const globs = new Map<string, RegExp>();

/** A glob as a regular expression, anchored at both ends; made once per pattern. */
export function globOf(pattern: string): RegExp {
  let regex = globs.get(pattern);
  if (regex === undefined) {
    const body = pattern
      .split('**')
      .map((part) =>
        part
          .split('*')
          .map((text) => text.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
          .join('[^/]*'),
      )
      .join('.*');
    regex = new RegExp(`^${body}$`);
    globs.set(pattern, regex);
  }
  return regex;
}
