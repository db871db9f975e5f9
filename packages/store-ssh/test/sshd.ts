import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, connect as netConnect } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findExecutable, makeTempDir, removeTempDir, requirePeer } from '@desync/testkit';

const run = promisify(execFile);

/** The OpenSSH binaries the SSH tests need, or undefined (outside CI) when one is missing. */
export function sshPeers(): { sshd: string; ssh: string; sshKeygen: string } | undefined {
  const sshd = requirePeer('sshd', findExecutable('sshd') ?? '/usr/sbin/sshd');
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

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`sshd exited with ${child.exitCode}: ${log()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = netConnect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`sshd did not listen on ${port}: ${log()}`);
}

/** Starts sshd as the current user (root in CI) with keys made by ssh-keygen in a temp dir. */
export async function startSshd(peers: { sshd: string; ssh: string; sshKeygen: string }): Promise<TestSshd> {
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
  await waitForPort(port, child, () => log);
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
      child.kill('SIGTERM');
      await new Promise((resolve) =>
        child.exitCode !== null ? resolve(undefined) : child.once('exit', resolve),
      );
      await removeTempDir(dir);
    },
  };
}
