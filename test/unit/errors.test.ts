import t from 'tap';
import {
  describeError,
  errorCode,
  GraveyardError,
  isSupervisorError,
  SupervisorError,
} from '../../src/core/model/errors.ts';

t.test('our errors are known by class, or by shape (a separately bundled copy)', async (t) => {
  t.equal(isSupervisorError(new SupervisorError('x', 2)), true);
  t.equal(isSupervisorError(new GraveyardError('unwritable')), true);
  const copy = Object.assign(new Error('from another bundle'), {
    name: 'SupervisorError',
    exitCode: 2,
  });
  t.equal(isSupervisorError(copy), true);
  t.equal(isSupervisorError(new Error('plain')), false);
  t.equal(new GraveyardError('x').exitCode, 2);
});

t.test('messages and errno codes of anything thrown', async (t) => {
  t.equal(describeError(new Error('boom')), 'boom');
  t.equal(describeError('a string'), 'a string');
  t.equal(errorCode(Object.assign(new Error('x'), { code: 'ENOENT' })), 'ENOENT');
  t.equal(errorCode(null), 'null');
});
