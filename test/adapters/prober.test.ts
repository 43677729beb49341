import { execFileSync } from 'node:child_process';
import { readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import { HttpShutdownPoster, SystemProber } from '../../src/adapters/system-prober.ts';
import { type CheckSpec, parseCheck } from '../../src/core/model/checks.ts';
import { freePort, TestHttpServer } from '../helpers/servers.ts';
import { isLive, waitFor } from '../helpers/wait.ts';

const prober = new SystemProber();

function check(text: string): CheckSpec {
  const parsed = parseCheck(text);
  if (!parsed.ok) throw new Error(parsed.problem);
  return parsed.check;
}

t.test('tcp: refused until something listens', async (t) => {
  const port = await freePort();
  t.match(await prober.probe(check(`tcp://127.0.0.1:${port}`), 1000), {
    ok: false,
    detail: 'ECONNREFUSED',
  });
  const server = createServer((socket) => socket.end());
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  t.teardown(() => new Promise((resolve) => server.close(resolve)));
  t.same(await prober.probe(check(`tcp://127.0.0.1:${port}`), 1000), {
    ok: true,
    detail: 'connected',
  });
});

t.test('http: 2xx is ready, anything else is not, a silent server times out', async (t) => {
  const server = new TestHttpServer();
  const base = await server.listen();
  t.teardown(() => server.close());
  server.status = 503;
  t.same(await prober.probe(check(`${base}/healthz/ready`), 1000), {
    ok: false,
    detail: 'HTTP 503',
  });
  server.status = 204;
  t.same(await prober.probe(check(`${base}/healthz/ready`), 1000), {
    ok: true,
    detail: 'HTTP 204',
  });
  t.equal(server.requests[0]?.method, 'GET');
  server.hang = true;
  t.same(await prober.probe(check(`${base}/slow`), 200), {
    ok: false,
    detail: 'no answer within 200ms',
  });
  const port = await freePort();
  t.match(await prober.probe(check(`http://127.0.0.1:${port}/`), 1000), {
    ok: false,
    detail: 'ECONNREFUSED',
  });
});

t.test(
  'https with a self-signed certificate: refused as https://, ready as https+insecure:// (the kubelet verifies none)',
  async (t) => {
    const server = new TestHttpServer({ tls: true });
    const base = await server.listen();
    t.teardown(() => server.close());
    const verified = await prober.probe(check(`${base}/ready`), 2000);
    t.equal(verified.ok, false, 'an unverifiable certificate is not ready');
    t.match(verified.detail, /SELF_SIGNED|CERT|certificate/i, 'and says why');
    t.equal(server.requests.length, 0, 'no request reached the server');
    const insecure = base.replace('https://', 'https+insecure://');
    t.same(await prober.probe(check(`${insecure}/ready`), 2000), { ok: true, detail: 'HTTP 200' });
    server.status = 503;
    t.same(await prober.probe(check(`${insecure}/ready`), 2000), { ok: false, detail: 'HTTP 503' });
    t.equal(server.requests.at(-1)?.url, '/ready');
  },
);

t.test('a ready check sends its headers (a Host header too), to its own origin only', async (t) => {
  const server = new TestHttpServer();
  const base = await server.listen();
  t.teardown(() => server.close());
  const other = new TestHttpServer();
  const elsewhere = await other.listen();
  t.teardown(() => other.close());
  const parsed = check(`${base}/healthz`);
  if (parsed.kind !== 'http') throw new Error('not http');
  const withHeaders = {
    ...parsed,
    headers: [
      ['X-Probe', 'kubexit'],
      ['Host', 'gateway.internal'],
    ] as Array<[string, string]>,
  };
  t.same(await prober.probe(withHeaders, 1000), { ok: true, detail: 'HTTP 200' });
  t.match(server.headers[0], { 'x-probe': 'kubexit', host: 'gateway.internal' });
  server.redirectTo = `${elsewhere}/moved`;
  t.same(await prober.probe(withHeaders, 1000), { ok: true, detail: 'HTTP 200' });
  t.equal(other.requests[0]?.url, '/moved', 'the redirect was followed');
  t.equal(other.headers[0]?.['x-probe'], undefined, 'without the headers');
});

t.test('file: must exist, be a regular file and not be empty; symlinks are followed', async (t) => {
  const dir = t.testdir({ empty: '', filled: 'user:token\n' });
  t.same(await prober.probe(check(`file://${dir}/missing`), 1000), {
    ok: false,
    detail: 'does not exist',
  });
  t.same(await prober.probe(check(`file://${dir}/empty`), 1000), { ok: false, detail: 'empty' });
  t.same(await prober.probe(check(`file://${dir}/filled`), 1000), { ok: true, detail: '11 bytes' });
  symlinkSync(join(dir, 'filled'), join(dir, 'link'));
  t.match(await prober.probe(check(`file://${dir}/link`), 1000), { ok: true });
  execFileSync('mkfifo', [join(dir, 'fifo')]);
  t.same(await prober.probe(check(`file://${dir}/fifo`), 1000), {
    ok: false,
    detail: 'not a regular file',
  });
  writeFileSync(join(dir, 'empty'), 'now filled');
  t.match(await prober.probe(check(`file://${dir}/empty`), 1000), { ok: true });
});

t.test('exec: exit 0 is ready; failures say why', async (t) => {
  t.same(await prober.probe(check('exec:true'), 1000), { ok: true, detail: 'exit 0' });
  t.same(await prober.probe(check('exec:["sh","-c","echo not yet >&2; exit 3"]'), 1000), {
    ok: false,
    detail: 'exit 3: not yet',
  });
  t.same(await prober.probe(check('exec:sleep 5'), 200), {
    ok: false,
    detail: 'no exit within 200ms',
  });
  t.same(await prober.probe(check('exec:kubexit-no-such-check'), 1000), {
    ok: false,
    detail: 'command not found: kubexit-no-such-check',
  });
});

t.test('exec: a check ends by its exit or its timeout, whatever its children do', async (t) => {
  const dir = t.testdir();
  const pids = join(dir, 'pids');
  // A background process holding the check's stdout used to keep the check pending forever.
  const passed = await prober.probe(
    check(`exec:["sh","-c","sleep 300 & echo $! >> ${pids}; exit 0"]`),
    1000,
  );
  t.same(passed, { ok: true, detail: 'exit 0' });
  const hung = await prober.probe(
    check(`exec:["sh","-c","sleep 300 & echo $! >> ${pids}; sleep 300"]`),
    300,
  );
  t.same(hung, { ok: false, detail: 'no exit within 300ms' });
  const failed = await prober.probe(
    check(`exec:["sh","-c","sleep 300 & echo $! >> ${pids}; echo nope >&2; exit 4"]`),
    1000,
  );
  t.same(failed, { ok: false, detail: 'exit 4: nope' });
  const left = readFileSync(pids, 'utf8').trim().split('\n').map(Number);
  t.equal(left.length, 3);
  await waitFor(
    () => left.every((pid) => !isLive(pid)),
    "the checks' background processes to be killed",
  );
});

t.test('the poster POSTs, and reports 2xx as ok', async (t) => {
  const server = new TestHttpServer();
  const base = await server.listen();
  t.teardown(() => server.close());
  const poster = new HttpShutdownPoster();
  t.same(await poster.post(`${base}/quitquitquit`, 1000), { ok: true, detail: 'HTTP 200' });
  t.same(server.requests, [{ method: 'POST', url: '/quitquitquit' }]);
  server.status = 404;
  t.same(await poster.post(`${base}/missing`, 1000), { ok: false, detail: 'HTTP 404' });
});

t.test(
  'http checks and shutdown calls reach ports the browser Fetch standard blocks',
  async (t) => {
    // Sidecars listen on these (X11's 6000, IRC's 6665–6669, NFS's 2049, SIP's 5060, 10080).
    let server: TestHttpServer | undefined;
    let base = '';
    for (const port of [6000, 6665, 10080, 2049, 5060]) {
      const candidate = new TestHttpServer();
      try {
        base = await candidate.listen(port);
        server = candidate;
        break;
      } catch {
        await candidate.close().catch(() => {});
      }
    }
    if (server === undefined) {
      t.comment('every blocked port is taken on this machine');
      return;
    }
    const listening = server;
    t.teardown(() => listening.close());
    t.same(await prober.probe(check(`${base}/ready`), 1000), { ok: true, detail: 'HTTP 200' });
    t.same(await new HttpShutdownPoster().post(`${base}/quit`, 1000), {
      ok: true,
      detail: 'HTTP 200',
    });
  },
);

t.test(
  'credentials in a URL go as a Basic Authorization header, to that origin only',
  async (t) => {
    const server = new TestHttpServer();
    const base = await server.listen();
    const elsewhere = new TestHttpServer();
    const other = await elsewhere.listen();
    t.teardown(async () => {
      await server.close();
      await elsewhere.close();
    });
    const withCredentials = base.replace('http://', 'http://admin:p%40ss%3Aword@');
    t.same(await prober.probe(check(`${withCredentials}/ready`), 1000), {
      ok: true,
      detail: 'HTTP 200',
    });
    t.same(await new HttpShutdownPoster().post(`${withCredentials}/quit`, 1000), {
      ok: true,
      detail: 'HTTP 200',
    });
    const expected = `Basic ${Buffer.from('admin:p@ss:word').toString('base64')}`;
    t.same(server.authorizations, [expected, expected]);
    // A redirect to another origin doesn't take the credentials along.
    server.redirectTo = `${other}/moved`;
    t.same(await prober.probe(check(`${withCredentials}/ready`), 1000), {
      ok: true,
      detail: 'HTTP 200',
    });
    t.same(elsewhere.authorizations, ['']);
    t.same(elsewhere.requests, [{ method: 'GET', url: '/moved' }]);
  },
);
