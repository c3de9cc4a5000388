import { RulesFileError } from '../calls/rules/rules-file';
import { StoreUnavailableError } from '../common/store/store-health';
import { describeStartUpFailure } from './start-up-failure';

describe('describeStartUpFailure', () => {
  const target = { host: '127.0.0.1', port: 8080 };

  it('puts several problems of a rules file on one line', () => {
    const error = new RulesFileError('/etc/rules.yaml', [
      { path: 'rules[0].when', line: 4, message: 'unknown field "bogus"' },
      { path: 'rules[1].action', line: 9, message: 'action must be an object' },
    ]);
    expect(describeStartUpFailure(error, target)).toBe(
      'the routing rules are invalid: /etc/rules.yaml:4: rules[0].when: unknown field "bogus"; /etc/rules.yaml:9: rules[1].action: action must be an object',
    );
  });

  it('names the file of a store that failed while the modules started', () => {
    const error = new StoreUnavailableError(
      'the call store is corrupt: database disk image is malformed (SQLITE_CORRUPT)',
      '/data/calls.db',
    );
    expect(describeStartUpFailure(error, target)).toBe(
      'the call store is corrupt: database disk image is malformed (SQLITE_CORRUPT) (/data/calls.db)',
    );
  });

  it('says which port or host a listen error is about', () => {
    const inUse = Object.assign(new Error('listen EADDRINUSE'), {
      code: 'EADDRINUSE',
      syscall: 'listen',
    });
    expect(describeStartUpFailure(inUse, target)).toMatch(
      /^port 8080 on 127\.0\.0\.1 is already in use \(EADDRINUSE\)/,
    );
    const unknownHost = Object.assign(new Error('getaddrinfo ENOTFOUND nowhere'), {
      code: 'ENOTFOUND',
      syscall: 'getaddrinfo',
    });
    expect(describeStartUpFailure(unknownHost, { ...target, host: 'nowhere' })).toMatch(
      /^HOST "nowhere" does not resolve to an address \(ENOTFOUND\)/,
    );
  });

  it('reduces anything else to its name, first-line message and code, on one line', () => {
    const error = Object.assign(new TypeError('something odd\n    at somewhere (file.js:1:1)'), {
      code: 'E_ODD',
    });
    expect(describeStartUpFailure(error)).toBe('TypeError: something odd (E_ODD)');
  });
});
