import { readFileSync } from 'node:fs';
import t from 'tap';
import { parse } from 'yaml';
import { POD_FAILURE_POLICY } from '../../src/commands/inject/pod-failure-policy.ts';

// The recipe's podFailurePolicy is the one inject adds, and a Job the schema accepts.
t.test('the podFailurePolicy recipe is what inject --pod-failure-policy adds', async (t) => {
  const recipes = readFileSync(new URL('../../docs/recipes.md', import.meta.url), 'utf8');
  const section = recipes.slice(recipes.indexOf('## Jobs that should not retry'));
  const block = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
  t.ok(block, 'the recipe has a YAML block');
  const job = parse(block ?? '');
  t.same(job.spec.podFailurePolicy, POD_FAILURE_POLICY);
  t.equal(job.spec.template.spec.restartPolicy, 'Never');
});
