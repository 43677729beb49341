import t from 'tap';
import { redactSecrets } from '../../src/core/model/redact.ts';

t.test('credentials in URLs are replaced wherever they are in a text', async (t) => {
  t.equal(
    redactSecrets('shutdown call POST http://admin:hunter2@127.0.0.1:15020/quit: HTTP 200'),
    'shutdown call POST http://***@127.0.0.1:15020/quit: HTTP 200',
  );
  t.equal(redactSecrets('https://TOKEN123@api.example/x'), 'https://***@api.example/x');
  t.equal(
    redactSecrets('see "http://h/x?user=me&token=abc&API_KEY=k&page=2#top" now'),
    'see "http://h/x?user=me&token=***&API_KEY=***&page=2#top" now',
  );
  t.equal(redactSecrets('a@b.c says hi: http://h:80/path@x'), 'a@b.c says hi: http://h:80/path@x');
  t.equal(
    redactSecrets('two: http://a:1@h1/ http://b:2@h2/'),
    'two: http://***@h1/ http://***@h2/',
  );
  t.equal(redactSecrets('no url here'), 'no url here');
});
