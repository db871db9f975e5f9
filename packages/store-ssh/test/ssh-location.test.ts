import { InvalidArgument } from '@desync/core';
import { describe, expect, it } from 'vitest';
import { isSshLocation, parseSshLocation, shellQuote } from '../src/ssh-location.js';
import { SshStore } from '../src/ssh-store.js';
import { sshStoreScheme } from '../src/ssh-store-scheme.js';

describe('SSH store locations', () => {
  it.each([
    ['ssh://host/srv/store', { host: 'host', path: '/srv/store' }],
    ['ssh://me@host:2222/srv/store', { host: 'host', port: 2222, user: 'me', path: '/srv/store' }],
    ['SSH://host/a%20b', { host: 'host', path: '/a b' }],
    ['ssh://me@[::1]:22/s', { host: '::1', port: 22, user: 'me', path: '/s' }],
    ['host:/srv/store', { host: 'host', path: '/srv/store' }],
    ['me@host.example:/srv/store', { host: 'host.example', user: 'me', path: '/srv/store' }],
    ['127.0.0.1:store', { host: '127.0.0.1', path: 'store' }],
  ])('parses %s', (location, expected) => {
    expect(isSshLocation(location)).toBe(true);
    expect(sshStoreScheme.matches(location)).toBe(true);
    expect(parseSshLocation(location)).toEqual(expected);
  });

  it.each([
    '/srv/store',
    './store',
    'store',
    'file:///srv/store',
    'http://host/store',
    's3+https://h/b',
    'a/b:c',
    'host:',
  ])('leaves %s to other adapters', (location) => {
    expect(sshStoreScheme.matches(location)).toBe(false);
  });

  it.each(['ssh://host', 'ssh://host/', 'ssh://me:secret@host/store'])('rejects %s', (location) => {
    expect(() => parseSshLocation(location)).toThrow(InvalidArgument);
  });

  it('quotes the path for the remote shell', () => {
    expect(shellQuote("/srv/it's here")).toBe(`'/srv/it'\\''s here'`);
    const store = new SshStore({ location: "host:/srv/a b'c", remotePath: 'desync' });
    expect(store.remoteCommand).toBe(`desync pull - - - '/srv/a b'\\''c'`);
    expect(store.toString()).toBe("host:/srv/a b'c");
  });

  it('opens an SshStore through the scheme without connecting', async () => {
    const store = await sshStoreScheme.open('ssh://h/s', { concurrency: 2, sshSkipHostKeyCheck: true });
    expect(store).toBeInstanceOf(SshStore);
    await store.close();
  });
});
