import t from 'tap';
import { startContainer } from '../helpers/kubexit.ts';
import { TestHttpServer } from '../helpers/servers.ts';

t.test(
  'credentials in shutdown URLs and checks are used, never printed; arguments only at debug; lines in causal order',
  async (t) => {
    const proxy = new TestHttpServer();
    const base = await proxy.listen();
    t.teardown(() => proxy.close());
    const secretBase = base.replace('http://', 'http://admin:hunter2@');
    for (const [format, level] of [
      ['text', 'info'],
      ['json', 'info'],
      ['json', 'debug'],
    ] as const) {
      const dir = t.testdir();
      const main = startContainer(dir, 'main', ['sh', '-c', 'exit 0', 'app', '--password=s3cr3t'], {
        KUBEXIT_LOG_FORMAT: format,
        KUBEXIT_LOG_LEVEL: level,
        KUBEXIT_BIRTH_DEPS: `${secretBase}/ready?token=t0k3n`,
        KUBEXIT_SHUTDOWN_URLS: `${secretBase}/quitquitquit`,
      });
      const ended = await main.finished;
      t.equal(ended.code, 0, ended.stderr);
      t.notMatch(ended.stderr, /hunter2|t0k3n/, `${format}/${level}: no credentials`);
      t.match(
        ended.stderr,
        /http:\/\/\*\*\*@127\.0\.0\.1/,
        `${format}/${level}: URLs shown redacted`,
      );
      // Causal order: the plan first, the command's end before the shutdown calls it causes.
      const at = (pattern: RegExp) => ended.stderr.search(pattern);
      t.ok(at(/starts when/) < at(/started sh/), `${format}/${level}: the plan comes first`);
      t.ok(
        at(/child exited with code 0/) < at(/shutdown call POST/),
        `${format}/${level}: the exit before the shutdown call`,
      );
      if (level === 'info') t.notMatch(ended.stderr, /s3cr3t/, `${format}/${level}: no arguments`);
      else t.match(ended.stderr, /s3cr3t/, 'arguments at debug level');
    }
    const expected = `Basic ${Buffer.from('admin:hunter2').toString('base64')}`;
    t.ok(proxy.authorizations.length >= 6, 'every check and shutdown call was made');
    t.ok(
      proxy.authorizations.every((header) => header === expected),
      'each with the credentials',
    );
  },
);
