import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

/* Every relative link of the README and the docs pages leads somewhere: a file, and a heading. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const PAGES = [
  'README.md',
  'BENCHMARKS.md',
  ...readdirSync(join(ROOT, 'docs')).map((name) => join('docs', name)),
].filter((page) => page.endsWith('.md'));

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces as dashes. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}_\- ]/gu, '')
    .replace(/ /g, '-');
}

/** The headings of a page, outside code blocks. */
function anchorsOf(page: string): Set<string> {
  const anchors = new Set<string>();
  let code = false;
  for (const line of readFileSync(join(ROOT, page), 'utf8').split('\n')) {
    if (line.startsWith('```')) code = !code;
    const heading = code ? null : /^#{1,6} (.*)$/.exec(line);
    if (heading) anchors.add(slug(heading[1] ?? ''));
  }
  return anchors;
}

/** Its links, outside code blocks. */
function linksOf(page: string): string[] {
  let code = false;
  const text = readFileSync(join(ROOT, page), 'utf8')
    .split('\n')
    .filter((line) => {
      if (line.startsWith('```')) code = !code;
      return !code && !line.startsWith('```');
    })
    .join('\n');
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1] ?? '');
}

for (const page of PAGES)
  t.test(`${page}: every relative link resolves`, async (t) => {
    for (const link of linksOf(page)) {
      if (/^[a-z]+:/.test(link)) continue;
      const [path = '', anchor] = link.split('#');
      const target = path === '' ? page : relative(ROOT, join(ROOT, dirname(page), path));
      t.ok(existsSync(join(ROOT, target)), `${link}: ${target} exists`);
      if (anchor !== undefined && target.endsWith('.md') && existsSync(join(ROOT, target)))
        t.ok(anchorsOf(target).has(anchor), `${link}: ${target} has a heading #${anchor}`);
    }
  });

t.test('the README is a front door: at most 19.5 KB, linking every docs page', async (t) => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  t.ok(Buffer.byteLength(readme) <= 19.5 * 1024, `${Buffer.byteLength(readme)} bytes`);
  for (const page of PAGES.filter((page) => page.startsWith('docs/')))
    t.ok(
      linksOf('README.md').some((link) => link.split('#')[0] === page),
      `the README links ${page}`,
    );
});
