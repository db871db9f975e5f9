import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** What a known_hosts file says about a host's key. */
export type HostKeyVerdict =
  | { readonly kind: 'match' }
  /** No entry names the host with a key of this type. */
  | { readonly kind: 'unknown' }
  /** An entry names the host with another key of the same type (changed, or an impostor). */
  | { readonly kind: 'changed'; readonly file: string; readonly line: number }
  /** The key is marked @revoked. */
  | { readonly kind: 'revoked'; readonly file: string; readonly line: number };

/** The key type named at the start of an SSH public key blob (`ssh-ed25519`, …). */
export function keyTypeOf(blob: Uint8Array): string {
  const b = Buffer.from(blob.buffer, blob.byteOffset, blob.length);
  if (b.length < 4) return '';
  const n = b.readUInt32BE(0);
  return b.subarray(4, 4 + n).toString('latin1');
}

/** The name OpenSSH looks a host up by: `host`, or `[host]:port` for a port other than 22. */
export function knownHostsName(host: string, port: number | undefined): string {
  return port === undefined || port === 22 ? host : `[${host}]:${port}`;
}

function wildcardMatch(pattern: string, name: string): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`, 'i').test(name);
}

/** OpenSSH sshd(8) "SSH_KNOWN_HOSTS FILE FORMAT": patterns, `!negation`, hashed `|1|salt|hash`. */
function hostFieldMatches(field: string, name: string): boolean {
  if (field.startsWith('|1|')) {
    const [, , salt, hash] = field.split('|');
    if (!salt || !hash) return false;
    const digest = createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64');
    return digest === hash;
  }
  let matched = false;
  for (const pattern of field.split(',')) {
    if (pattern.startsWith('!')) {
      if (wildcardMatch(pattern.slice(1), name)) return false;
    } else if (wildcardMatch(pattern, name)) {
      matched = true;
    }
  }
  return matched;
}

/**
 * Looks `key` (an SSH public key blob) up for `host`:`port` in OpenSSH known_hosts files, in
 * order. A matching @revoked entry wins; then a matching key; then an entry of the same type
 * with another key (changed). Missing or unreadable files count as empty. @cert-authority
 * lines are skipped (host certificates are not supported).
 */
export function checkKnownHost(
  files: readonly string[],
  host: string,
  port: number | undefined,
  key: Uint8Array,
): HostKeyVerdict {
  const name = knownHostsName(host, port);
  const type = keyTypeOf(key);
  const blob = Buffer.from(key.buffer, key.byteOffset, key.length);
  let match = false;
  let changed: HostKeyVerdict | undefined;
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i].trim();
      if (line === '' || line.startsWith('#')) continue;
      let fields = line.split(/\s+/);
      let marker: string | undefined;
      if (fields[0].startsWith('@')) {
        marker = fields[0];
        fields = fields.slice(1);
      }
      if (fields.length < 3 || marker === '@cert-authority') continue;
      const [hosts, keyType, keyBase64] = fields;
      if (!hostFieldMatches(hosts, name)) continue;
      const same = Buffer.from(keyBase64, 'base64').equals(blob);
      if (marker === '@revoked') {
        if (same) return { kind: 'revoked', file, line: i + 1 };
        continue;
      }
      if (same) match = true;
      else if (keyType === type) changed ??= { kind: 'changed', file, line: i + 1 };
    }
  }
  if (match) return { kind: 'match' };
  return changed ?? { kind: 'unknown' };
}
