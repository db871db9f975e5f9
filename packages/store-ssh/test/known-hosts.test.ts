import { createHmac, randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { makeTempDir, removeTempDir } from '@desync/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkKnownHost, keyTypeOf, knownHostsName } from '../src/known-hosts.js';

/** An SSH public key blob of `type` with random key bytes. */
function keyBlob(type = 'ssh-ed25519'): Buffer {
  const name = Buffer.from(type);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(name.length);
  const keyLen = Buffer.alloc(4);
  keyLen.writeUInt32BE(32);
  return Buffer.concat([len, name, keyLen, randomBytes(32)]);
}

function hashed(name: string): string {
  const salt = randomBytes(20);
  return `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
}

describe('known_hosts lookup', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await makeTempDir('desync-known-hosts-');
  });
  afterAll(async () => {
    await removeTempDir(dir);
  });

  const file = async (text: string): Promise<string> => {
    const path = join(dir, `kh-${randomBytes(4).toString('hex')}`);
    await writeFile(path, text);
    return path;
  };

  it('names hosts as OpenSSH does', () => {
    expect(knownHostsName('example.org', undefined)).toBe('example.org');
    expect(knownHostsName('example.org', 22)).toBe('example.org');
    expect(knownHostsName('127.0.0.1', 2222)).toBe('[127.0.0.1]:2222');
    expect(keyTypeOf(keyBlob('ecdsa-sha2-nistp256'))).toBe('ecdsa-sha2-nistp256');
  });

  it('matches plain, listed, wildcard, [host]:port and hashed entries', async () => {
    const key = keyBlob();
    const b64 = key.toString('base64');
    const cases: [string, string, number | undefined][] = [
      [`example.org ssh-ed25519 ${b64}`, 'example.org', undefined],
      [`other,EXAMPLE.org ssh-ed25519 ${b64} comment`, 'example.org', 22],
      [`*.example.org ssh-ed25519 ${b64}`, 'a.example.org', undefined],
      [`[127.0.0.1]:2222 ssh-ed25519 ${b64}`, '127.0.0.1', 2222],
      [`${hashed('[127.0.0.1]:2222')} ssh-ed25519 ${b64}`, '127.0.0.1', 2222],
      [`${hashed('example.org')} ssh-ed25519 ${b64}`, 'example.org', undefined],
    ];
    for (const [line, host, port] of cases) {
      expect(checkKnownHost([await file(`# comment\n\n${line}\n`)], host, port, key), line).toEqual({
        kind: 'match',
      });
    }
  });

  it('does not take an entry for port 22 as one for another port', async () => {
    const key = keyBlob();
    const path = await file(`127.0.0.1 ssh-ed25519 ${key.toString('base64')}\n`);
    expect(checkKnownHost([path], '127.0.0.1', 2222, key)).toEqual({ kind: 'unknown' });
  });

  it('honours negated patterns', async () => {
    const key = keyBlob();
    const path = await file(`*.example.org,!bad.example.org ssh-ed25519 ${key.toString('base64')}\n`);
    expect(checkKnownHost([path], 'bad.example.org', undefined, key)).toEqual({ kind: 'unknown' });
  });

  it('reports a changed key of the same type with its file and line', async () => {
    const path = await file(`a ssh-rsa AAAA\nexample.org ssh-ed25519 ${keyBlob().toString('base64')}\n`);
    expect(checkKnownHost([path], 'example.org', undefined, keyBlob())).toEqual({
      kind: 'changed',
      file: path,
      line: 2,
    });
  });

  it('treats a host known only with another key type as unknown', async () => {
    const path = await file(`example.org ssh-rsa ${keyBlob('ssh-rsa').toString('base64')}\n`);
    expect(checkKnownHost([path], 'example.org', undefined, keyBlob()).kind).toBe('unknown');
  });

  it('refuses a revoked key even when it is also listed', async () => {
    const key = keyBlob();
    const b64 = key.toString('base64');
    const path = await file(`example.org ssh-ed25519 ${b64}\n@revoked * ssh-ed25519 ${b64}\n`);
    expect(checkKnownHost([path], 'example.org', undefined, key).kind).toBe('revoked');
  });

  it('skips missing files and @cert-authority lines', async () => {
    const key = keyBlob();
    const path = await file(`@cert-authority * ssh-ed25519 ${key.toString('base64')}\n`);
    expect(checkKnownHost([join(dir, 'absent'), path], 'example.org', undefined, key).kind).toBe('unknown');
  });
});
