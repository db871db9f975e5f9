import { existsSync, readFileSync } from 'node:fs';
import { StoreError } from '@desync/core';
import ssh2 from 'ssh2';
import { checkKnownHost, type HostKeyVerdict, keyTypeOf, knownHostsName } from './known-hosts.js';
import type { RemotePipes } from './pull-session.js';
import type { SshLocation } from './ssh-location.js';
import { StderrTail, settleWithin } from './stderr-tail.js';

const { Client, utils } = ssh2;

/** How the built-in SSH client (ssh2) logs in and checks the server. */
export interface Ssh2Settings {
  /** Login name. */
  readonly username: string;
  /** Private key files tried in order (unreadable, encrypted or unknown ones are skipped). */
  readonly identityFiles: readonly string[];
  /** ssh-agent socket tried before the key files; undefined for none. */
  readonly agent: string | undefined;
  /** OpenSSH known_hosts files the host key must be in. */
  readonly knownHostsFiles: readonly string[];
  /** Accept any host key. */
  readonly skipHostKeyCheck: boolean;
  /** Milliseconds allowed for connecting and logging in; undefined for ssh2's 20 s. */
  readonly timeoutMs: number | undefined;
}

type AuthMethod = ssh2.AgentAuthMethod | ssh2.PublicKeyAuthMethod;

function authMethods(settings: Ssh2Settings): { methods: AuthMethod[]; tried: string[] } {
  const methods: AuthMethod[] = [];
  const tried: string[] = [];
  if (settings.agent) {
    methods.push({ type: 'agent', username: settings.username, agent: settings.agent });
    tried.push('ssh-agent');
  }
  for (const file of settings.identityFiles) {
    if (!existsSync(file)) continue;
    let key: ReturnType<typeof utils.parseKey>;
    try {
      key = utils.parseKey(readFileSync(file));
    } catch {
      continue;
    }
    // An encrypted key cannot be used without its passphrase (use ssh-agent for those).
    if (key instanceof Error) continue;
    methods.push({ type: 'publickey', username: settings.username, key: Array.isArray(key) ? key[0] : key });
    tried.push(file);
  }
  return { methods, tried };
}

function hostKeyError(
  store: string,
  location: SshLocation,
  verdict: HostKeyVerdict,
  settings: Ssh2Settings,
  type: string,
): StoreError {
  const name = knownHostsName(location.host, location.port);
  const scan = `ssh-keyscan${location.port !== undefined ? ` -p ${location.port}` : ''} -t ${type.replace(/^ssh-/, '')} ${location.host} >> ~/.ssh/known_hosts`;
  switch (verdict.kind) {
    case 'changed':
      return new StoreError(
        store,
        `the SSH host key of ${name} is not the one in ${verdict.file} line ${verdict.line}: it changed, or someone is intercepting the connection; if the change is expected, remove the old key (ssh-keygen -R '${name}') and add the new one (${scan}), or pass --ssh-skip-host-key-check`,
      );
    case 'revoked':
      return new StoreError(
        store,
        `the SSH host key of ${name} is marked @revoked in ${verdict.file} line ${verdict.line}`,
      );
    default:
      return new StoreError(
        store,
        `the SSH host key of ${name} (${type}) is not in ${settings.knownHostsFiles.join(' or ') || 'any known_hosts file'}; check the key, then add it (${scan}), or pass --ssh-skip-host-key-check`,
      );
  }
}

/**
 * Connects with ssh2 and runs `remoteCommand` in an exec channel. Rejects with a StoreError
 * naming `store` when the host key is unknown or changed, login fails or the host cannot be
 * reached. The returned pipes close the whole connection when closed.
 */
export function openSsh2Pipes(
  store: string,
  location: SshLocation,
  settings: Ssh2Settings,
  remoteCommand: string,
): Promise<RemotePipes> {
  const { methods, tried } = authMethods(settings);
  if (methods.length === 0) {
    return Promise.reject(
      new StoreError(
        store,
        `no SSH key to log in with: no ssh-agent (SSH_AUTH_SOCK) and none of ${settings.identityFiles.join(', ') || 'the key files'} is a usable unencrypted key`,
      ),
    );
  }
  return new Promise<RemotePipes>((resolve, reject) => {
    const conn = new Client();
    let verdict: HostKeyVerdict | undefined;
    let keyType = '';
    let settled = false;
    const fail = (err: Error): void => {
      if (settled) return;
      settled = true;
      conn.end();
      reject(err);
    };
    conn.on('error', (err: Error & { level?: string }) => {
      if (verdict && verdict.kind !== 'match') {
        fail(hostKeyError(store, location, verdict, settings, keyType));
      } else if (err.level === 'client-authentication') {
        fail(
          new StoreError(
            store,
            `SSH login as ${settings.username} failed (tried ${tried.join(', ')}); add your public key to ~/.ssh/authorized_keys on ${location.host}`,
            { cause: err },
          ),
        );
      } else {
        const where = `${location.host}:${location.port ?? 22}`;
        fail(new StoreError(store, `cannot connect to ${where}: ${err.message}`, { cause: err }));
      }
    });
    conn.on('ready', () => {
      // Requests are small messages answered before the next batch goes out: with Nagle's
      // algorithm each could wait for the server's delayed ACK (40 ms on Linux).
      conn.setNoDelay(true);
      conn.exec(remoteCommand, (err, channel) => {
        if (err) {
          fail(new StoreError(store, `cannot run the remote command: ${err.message}`, { cause: err }));
          return;
        }
        settled = true;
        const stderr = new StderrTail(channel.stderr);
        let exitText = '';
        channel.on('exit', (code: number | null, signal?: string) => {
          exitText = signal
            ? `the remote command was killed by ${signal}`
            : `the remote command exited with status ${code}`;
        });
        const channelClosed = new Promise<void>((done) => channel.once('close', () => done()));
        // The connection going away ends the channel too; the session reads that as EOF.
        conn.on('close', () => channel.destroy());
        let closed = false;
        resolve({
          stdout: channel,
          stdin: channel,
          stderrTail: () => stderr.text() || exitText,
          settle: () => settleWithin(Promise.all([channelClosed, stderr.ended]), 1000),
          close: () => {
            if (closed) return;
            closed = true;
            settleWithin(channelClosed, 1000).then(() => conn.end());
          },
        });
      });
    });
    conn.connect({
      host: location.host,
      port: location.port ?? 22,
      username: settings.username,
      authHandler: methods,
      ...(settings.timeoutMs !== undefined ? { readyTimeout: settings.timeoutMs } : {}),
      hostVerifier: (key: Buffer): boolean => {
        if (settings.skipHostKeyCheck) return true;
        keyType = keyTypeOf(key);
        verdict = checkKnownHost(settings.knownHostsFiles, location.host, location.port, key);
        return verdict.kind === 'match';
      },
    });
  });
}
