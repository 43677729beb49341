import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { parse } from 'yaml';

const DIR = fileURLToPath(new URL('../../.github/workflows/', import.meta.url));

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
}
interface Job {
  needs?: string | string[];
  permissions?: Record<string, string>;
  steps: Step[];
}
interface Workflow {
  permissions?: Record<string, string>;
  jobs: Record<string, Job>;
}

const workflows = readdirSync(DIR)
  .filter((file) => file.endsWith('.yml'))
  .map((file) => ({ file, workflow: parse(readFileSync(join(DIR, file), 'utf8')) as Workflow }));

t.test('every action in every workflow is pinned by commit', async (t) => {
  for (const { file, workflow } of workflows) {
    for (const [name, job] of Object.entries(workflow.jobs)) {
      for (const step of job.steps) {
        if (step.uses !== undefined)
          t.match(step.uses, /^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/, `${file} ${name}: ${step.uses}`);
      }
    }
  }
});

t.test('no workflow grants write access to every job', async (t) => {
  for (const { file, workflow } of workflows) {
    const granted = Object.values(workflow.permissions ?? {});
    t.notOk(granted.includes('write'), `${file}: workflow-level permissions are read-only or none`);
  }
});

t.test('the release: image after binaries, checksums, provenance for both', async (t) => {
  const release = workflows.find(({ file }) => file === 'release.yml')?.workflow;
  if (release === undefined) throw new Error('release.yml is missing');
  t.same(release.permissions, {});
  const { binaries, image } = release.jobs;
  if (binaries === undefined || image === undefined) throw new Error('jobs missing');
  t.equal(image.needs, 'binaries');
  for (const job of [binaries, image]) {
    t.equal(job.permissions?.['id-token'], 'write');
    t.equal(job.permissions?.attestations, 'write');
  }
  t.equal(binaries.permissions?.contents, 'write');
  t.equal(image.permissions?.contents, 'read');
  t.equal(image.permissions?.packages, 'write');
  const attests = (job: Job) =>
    job.steps.filter((step) => step.uses?.startsWith('actions/attest-build-provenance@'));
  t.match(attests(binaries)[0]?.with, { 'subject-path': /release\/kubexit-linux-/ });
  t.match(attests(image)[0]?.with, { 'subject-digest': /steps\.push\.outputs\.digest/ });
  t.ok(
    binaries.steps.some(
      (step) => step.run?.includes('sha256sum') && step.run.includes('SHA256SUMS'),
    ),
    'SHA256SUMS is published with the binaries',
  );
});
