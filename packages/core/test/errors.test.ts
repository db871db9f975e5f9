import { describe, expect, it } from 'vitest';
import {
  Aborted,
  ChunkInvalid,
  ChunkMissing,
  DataMismatch,
  DesyncError,
  describeSystemError,
  EXIT_CODES,
  FileError,
  IndexFormatError,
  InvalidArgument,
  StoreError,
} from '../src/errors.js';

const errors: DesyncError[] = [
  new ChunkMissing('id', 'store'),
  new ChunkInvalid('id', 'store', 'reason'),
  new IndexFormatError('file', 'reason'),
  new StoreError('store', 'reason'),
  new InvalidArgument('message'),
  new FileError('file', 'reason'),
  new DataMismatch('message'),
  new Aborted(),
];

describe('DesyncError', () => {
  it.each(errors.map((e) => [e.name, e] as const))(
    '%s has a code, its class name and an exit status',
    (name, err) => {
      expect(err).toBeInstanceOf(DesyncError);
      expect(err).toBeInstanceOf(Error);
      expect(err.name).toBe(name);
      expect(err.code).toMatch(/^[A-Z_]+$/);
      expect(EXIT_CODES[err.code]).toBeGreaterThan(0);
    },
  );

  it('gives every code its own exit status', () => {
    const statuses = Object.values(EXIT_CODES);
    expect(new Set(statuses).size).toBe(statuses.length);
  });

  it('keeps the cause', () => {
    const cause = new Error('EIO');
    expect(new StoreError('s', 'read failed', { cause }).cause).toBe(cause);
  });

  it('says what to do about a missing chunk', () => {
    expect(new ChunkMissing('abc', '/srv/store').message).toBe(
      'chunk abc is not in /srv/store; check --store and the index it came from',
    );
  });
});

describe('describeSystemError', () => {
  it.each([
    ['ENOENT', 'no such file or directory'],
    ['EACCES', 'permission denied'],
    ['EPERM', 'permission denied'],
    ['ENOSPC', 'no space left on device'],
  ])('describes %s', (code, text) => {
    expect(describeSystemError(Object.assign(new Error('raw'), { code }))).toBe(text);
  });

  it('falls back to the message, or the value itself', () => {
    expect(describeSystemError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))).toBe(
      'socket hang up',
    );
    expect(describeSystemError('plain string')).toBe('plain string');
  });
});
