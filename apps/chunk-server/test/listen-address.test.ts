import { InvalidArgument } from '@desync/core';
import { describe, expect, it } from 'vitest';
import { parseListenAddress } from '../src/index.js';

describe('parseListenAddress', () => {
  it('reads HOST:PORT, :PORT, [IPv6]:PORT and service names', () => {
    expect(parseListenAddress('127.0.0.1:8080')).toEqual({ host: '127.0.0.1', port: 8080 });
    expect(parseListenAddress(':9000')).toEqual({ host: undefined, port: 9000 });
    expect(parseListenAddress('[::1]:0')).toEqual({ host: '::1', port: 0 });
    expect(parseListenAddress('localhost:http')).toEqual({ host: 'localhost', port: 80 });
    expect(parseListenAddress(':https')).toEqual({ host: undefined, port: 443 });
  });

  it.each(['8080', 'host', 'host:', 'host:70000', 'host:-1', '::1:80', 'host:ftp', 'host:8080x'])(
    'rejects %s',
    (spec) => {
      expect(() => parseListenAddress(spec)).toThrow(InvalidArgument);
    },
  );
});
