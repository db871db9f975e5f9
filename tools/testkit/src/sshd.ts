import { execFile, spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort, stopChild, waitForPort } from './child-ports.js';
import { findExecutable, isExecutable } from './find-executable.js';
import { requirePeer } from './require-peer.js';
import { makeTempDir, removeTempDir } from './temp-dir.js';

const run = promisify(execFile);

/** The OpenSSH programs an sshd harness needs. */
export interface SshPrograms {
  sshd: string;
  ssh: string;
  sshKeygen: string;
}

function findSshd(): string | undefined {
  return findExecutable('sshd') ?? ['/usr/sbin/sshd', '/usr/local/sbin/sshd'].find((p) => isExecutable(p));
}

/** sshd, ssh and ssh-keygen, or the names of those missing (for tools that report, not fail). */
export function findSshPrograms(): SshPrograms | { missing: string[] } {
  const found = { sshd: findSshd(), ssh: findExecutable('ssh'), 'ssh-keygen': findExecutable('ssh-keygen') };
  const missing = Object.entries(found)
    .filter(([, path]) => path === undefined)
    .map(([name]) => name);
  if (!found.sshd || !found.ssh || !found['ssh-keygen']) return { missing };
  return { sshd: found.sshd, ssh: found.ssh, sshKeygen: found['ssh-keygen'] };
}

/**
 * The OpenSSH programs the SSH tests need, or undefined (outside CI) when one is missing;
 * with CI=true a missing one throws (requirePeer).
 */
export function sshPeers(): SshPrograms | undefined {
  const sshd = requirePeer('sshd', findSshd());
  const ssh = requirePeer('ssh', findExecutable('ssh'));
  const sshKeygen = requirePeer('ssh-keygen', findExecutable('ssh-keygen'));
  return sshd && ssh && sshKeygen ? { sshd, ssh, sshKeygen } : undefined;
}

/** A throwaway OpenSSH server on 127.0.0.1 that lets the current user in with `userKey`. */
export interface TestSshd {
  readonly port: number;
  readonly user: string;
  /** Temp directory holding keys and config (removed by stop()). */
  readonly dir: string;
  /** The user's private key (ed25519, no passphrase). */
  readonly userKey: string;
  /** A known_hosts file listing the server's key as `[127.0.0.1]:PORT`. */
  readonly knownHosts: string;
  /** A fake HOME whose .ssh holds id_ed25519 and known_hosts (for the CLI, which uses ~/.ssh). */
  readonly home: string;
  /** The server's public key line (`ssh-ed25519 AAAA…`). */
  readonly hostPublicKey: string;
  /**
   * An executable for CASYNC_SSH_PATH: runs ssh with the test key and known_hosts, in batch
   * mode; with `port` it adds `-p PORT` (for casync, whose `host:/path` has no port).
   */
  sshWrapper(withPort: boolean): Promise<string>;
  stop(): Promise<void>;
}

/** Starts sshd as the current user (root in CI) with keys made by ssh-keygen in a temp dir. */
export async function startSshd(peers: SshPrograms): Promise<TestSshd> {
  const dir = await makeTempDir('desync-sshd-');
  const hostKey = join(dir, 'host_ed25519');
  const userKey = join(dir, 'user_ed25519');
  await run(peers.sshKeygen, ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey]);
  await run(peers.sshKeygen, ['-q', '-t', 'ed25519', '-N', '', '-f', userKey]);
  await writeFile(join(dir, 'authorized_keys'), await readFile(`${userKey}.pub`));
  const port = await freePort();
  const hostPublicKey = (await readFile(`${hostKey}.pub`, 'utf8')).trim().split(/\s+/).slice(0, 2).join(' ');
  const knownHosts = join(dir, 'known_hosts');
  await writeFile(knownHosts, `[127.0.0.1]:${port} ${hostPublicKey}\n`);
  const home = join(dir, 'home');
  await mkdir(join(home, '.ssh'), { recursive: true, mode: 0o700 });
  await writeFile(join(home, '.ssh', 'id_ed25519'), await readFile(userKey), { mode: 0o600 });
  await writeFile(join(home, '.ssh', 'known_hosts'), `[127.0.0.1]:${port} ${hostPublicKey}\n`);
  const config = join(dir, 'sshd_config');
  await writeFile(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      'PermitRootLogin yes',
      'StrictModes no',
      'UsePAM no',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      'MaxStartups 100',
      'MaxSessions 100',
      'LogLevel ERROR',
      '',
    ].join('\n'),
  );
  // sshd started as root insists on its privilege separation directory (made by the
  // openssh-server service, which the tests do not start).
  if (process.getuid?.() === 0) await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  const child = spawn(peers.sshd, ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (piece: Buffer) => {
    log = (log + piece.toString()).slice(-4000);
  });
  try {
    await waitForPort(port, child, 'sshd', () => log);
  } catch (err) {
    await stopChild(child);
    await removeTempDir(dir);
    throw err;
  }
  const user = userInfo().username;
  return {
    port,
    user,
    dir,
    userKey,
    knownHosts,
    home,
    hostPublicKey,
    sshWrapper: async (withPort) => {
      const file = join(dir, withPort ? 'ssh-with-port' : 'ssh-plain');
      const options = [
        `-i '${userKey}'`,
        `-o UserKnownHostsFile='${knownHosts}'`,
        '-o GlobalKnownHostsFile=/dev/null',
        '-o BatchMode=yes',
        '-o IdentitiesOnly=yes',
        '-o StrictHostKeyChecking=yes',
        '-o LogLevel=ERROR',
        `-l ${user}`,
        ...(withPort ? [`-p ${port}`] : []),
      ].join(' ');
      await writeFile(file, `#!/bin/sh\nexec '${peers.ssh}' -F /dev/null ${options} "$@"\n`, { mode: 0o755 });
      return file;
    },
    stop: async () => {
      await stopChild(child);
      await removeTempDir(dir);
    },
  };
}
