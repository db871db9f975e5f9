import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { findSshPrograms, startSshd } from '../src/sshd.js';

const run = promisify(execFile);
const programs = findSshPrograms();

describe.skipIf('missing' in programs)('startSshd', () => {
  it('lets the wrapper scripts log in to a throwaway sshd on 127.0.0.1', async () => {
    if ('missing' in programs) return;
    const sshd = await startSshd(programs);
    try {
      const withPort = await run(sshd.sshWithPort, ['127.0.0.1', 'echo with-port']);
      expect(withPort.stdout.trim()).toBe('with-port');
      const plain = await run(sshd.sshPlain, ['-p', String(sshd.port), '127.0.0.1', 'echo plain']);
      expect(plain.stdout.trim()).toBe('plain');
    } finally {
      await sshd.stop();
    }
  });
});
