import { findSshPrograms, type SshPrograms, startSshd as startTestSshd } from '@desync/testkit';

export { findSshPrograms, type SshPrograms };

/** A throwaway OpenSSH server on 127.0.0.1 that lets the current user in with a temp key. */
export interface BenchSshd {
  readonly port: number;
  readonly user: string;
  /** A HOME whose .ssh holds id_ed25519 and known_hosts, for our ssh2 transport. */
  readonly home: string;
  /** CASYNC_SSH_PATH for casync (adds -p PORT: `host:/path` has no port). */
  readonly sshWithPort: string;
  /** CASYNC_SSH_PATH for our client (the port comes from the ssh:// location as -p). */
  readonly sshPlain: string;
  stop(): Promise<void>;
}

/** Starts testkit's sshd harness (keys, known_hosts, a fake HOME) for the ssh workloads. */
export async function startSshd(programs: SshPrograms): Promise<BenchSshd> {
  const sshd = await startTestSshd(programs);
  return {
    port: sshd.port,
    user: sshd.user,
    home: sshd.home,
    sshWithPort: await sshd.sshWrapper(true),
    sshPlain: await sshd.sshWrapper(false),
    stop: () => sshd.stop(),
  };
}
