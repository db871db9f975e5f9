import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import { spawnCommandPipes } from './command-transport.js';
import type { RemotePipes } from './pull-session.js';
import type { SshLocation } from './ssh-location.js';
import type { SshStoreOptions } from './ssh-store.js';

/** How to reach a host: the connection options of SshStoreOptions. */
export type SshConnectOptions = Omit<SshStoreOptions, 'location' | 'concurrency'>;

/**
 * Runs `remoteCommand` on the host of `location` and returns its pipes: through the
 * `transport` option, an ssh command (`sshPath`, else CASYNC_SSH_PATH), or the built-in ssh2
 * client. `name` (the location as the user wrote it) names the peer in errors.
 */
export async function openRemotePipes(
  name: string,
  location: SshLocation,
  remoteCommand: string,
  options: SshConnectOptions,
): Promise<RemotePipes> {
  if (options.transport) return options.transport(remoteCommand);
  const sshPath = options.sshPath ?? process.env.CASYNC_SSH_PATH;
  if (sshPath) return spawnCommandPipes(sshPath, location, remoteCommand);
  const sshDir = join(homedir(), '.ssh');
  const agent = options.agent ?? process.env.SSH_AUTH_SOCK;
  // ssh2 loads on the first ssh2 connection only (not for CASYNC_SSH_PATH, nor for `pull`).
  const { openSsh2Pipes } = await import('./ssh2-transport.js');
  return openSsh2Pipes(
    name,
    location,
    {
      username: location.user ?? userInfo().username,
      identityFiles:
        options.identityFiles ?? ['id_ed25519', 'id_rsa', 'id_ecdsa'].map((f) => join(sshDir, f)),
      agent: agent || undefined,
      knownHostsFiles: options.knownHostsFiles ?? [join(sshDir, 'known_hosts')],
      skipHostKeyCheck: options.skipHostKeyCheck ?? false,
      timeoutMs: options.timeoutMs,
    },
    remoteCommand,
  );
}

/** The casync (or desync) run on the remote: the option, CASYNC_REMOTE_PATH, else `casync`. */
export function remoteProgram(options: Pick<SshStoreOptions, 'remotePath'>): string {
  return options.remotePath ?? process.env.CASYNC_REMOTE_PATH ?? 'casync';
}
