import t from 'tap';
import {
  describeCheck,
  isCheckEntry,
  parseCheck,
  parseHeaders,
} from '../../src/core/model/checks.ts';

t.test('parses every check kind', async (t) => {
  t.match(parseCheck('tcp://localhost:9000'), {
    ok: true,
    check: { kind: 'tcp', host: 'localhost', port: 9000 },
  });
  t.match(parseCheck('tcp://[::1]:9000'), {
    ok: true,
    check: { kind: 'tcp', host: '::1', port: 9000 },
  });
  t.match(parseCheck('http://127.0.0.1:15021/healthz/ready'), {
    ok: true,
    check: { kind: 'http', url: 'http://127.0.0.1:15021/healthz/ready' },
  });
  t.match(parseCheck('https://vault:8200/v1/sys/health'), {
    ok: true,
    check: { kind: 'http', insecure: false, headers: [] },
  });
  t.match(parseCheck('https+insecure://localhost:8443/ready?full=1'), {
    ok: true,
    check: { kind: 'http', url: 'https://localhost:8443/ready?full=1', insecure: true },
  });
  t.match(parseCheck('file:///shared/users.txt'), {
    ok: true,
    check: { kind: 'file', path: '/shared/users.txt' },
  });
  t.match(parseCheck('file:///shared/with%20space'), {
    ok: true,
    check: { path: '/shared/with space' },
  });
  t.match(parseCheck('exec:pg_isready -h localhost'), {
    ok: true,
    check: { kind: 'exec', command: 'pg_isready', args: ['-h', 'localhost'] },
  });
  t.match(parseCheck('exec:["sh","-c","test -s /x"]'), {
    ok: true,
    check: { command: 'sh', args: ['-c', 'test -s /x'] },
  });
});

t.test('headers: one "Name: value" per line; anything else names the line', async (t) => {
  t.same(parseHeaders('X-Probe: kubexit\nHost:  gateway.internal \n\n'), {
    ok: true,
    headers: [
      ['X-Probe', 'kubexit'],
      ['Host', 'gateway.internal'],
    ],
  });
  t.same(parseHeaders('Authorization: Bearer a:b'), {
    ok: true,
    headers: [['Authorization', 'Bearer a:b']],
  });
  t.match(parseHeaders('no colon here'), { ok: false, problem: /is not "Name: value"/ });
  t.match(parseHeaders('Bad Name: x'), { ok: false, problem: /"Bad Name: x"/ });
});

t.test('an insecure check is shown as written, credentials hidden', async (t) => {
  const parsed = parseCheck('https+insecure://user:secret@localhost:8443/ready');
  if (!parsed.ok) throw new Error(parsed.problem);
  t.notMatch(describeCheck(parsed.check), /secret/);
  t.match(describeCheck(parsed.check), /^https\+insecure:\/\/\*\*\*@localhost:8443\/ready$/);
});

t.test('rejects malformed checks with the fix', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['tcp://localhost', /needs a host and a port/],
    ['tcp://localhost:99999', /is not a check: use tcp:\/\/host:port/],
    ['tcp://localhost:80/path', /without a path/],
    ['file://relative/path', /three slashes/],
    ['file:///dir/', /not a directory/],
    ['ftp://host/x', /unsupported scheme "ftp:"/],
    ['exec:', /names no command/],
    ['exec:["unterminated"', /invalid JSON array/],
    ['exec:[1,2]', /invalid JSON array/],
    ['not a url://x', /is not a check/],
  ];
  for (const [text, problem] of cases) t.match(parseCheck(text), { ok: false, problem }, text);
});

t.test('tells endpoints from container names', async (t) => {
  t.ok(isCheckEntry('tcp://x:1'));
  t.ok(isCheckEntry('exec:true'));
  t.notOk(isCheckEntry('queue'));
});

t.test('never logs URL credentials', async (t) => {
  const parsed = parseCheck('http://user:secret@vault:8200/health');
  t.ok(parsed.ok);
  if (parsed.ok) t.equal(describeCheck(parsed.check), 'http://***@vault:8200/health');
});
