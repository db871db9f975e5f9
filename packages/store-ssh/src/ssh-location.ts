import { InvalidArgument } from '@desync/core';

/** Where an SSH store is: the parts of `ssh://[user@]host[:port]/path` or `[user@]host:path`. */
export interface SshLocation {
  /** Host name or address. */
  readonly host: string;
  /** TCP port; undefined means the ssh default (22, or what the ssh command's config says). */
  readonly port?: number;
  /** Login name; undefined means the local user's name. */
  readonly user?: string;
  /** Store directory on the remote, as given (relative paths are relative to the login's home). */
  readonly path: string;
}

// casync caremote.c ca_remote_ssh_prefix_install: `[user@]host:` where the host (and user)
// take hostname characters, followed by the path; a `scheme://` is a URL instead.
const CASYNC_FORM = /^(?:([A-Za-z0-9._+-]+)@)?([A-Za-z0-9._-]+):(?!\/\/)(.+)$/;
const URL_FORM = /^ssh:\/\//i;

/** True for `ssh://…` and for casync's `[user@]host:path` (a colon before the first slash). */
export function isSshLocation(location: string): boolean {
  return URL_FORM.test(location) || CASYNC_FORM.test(location);
}

/** Parses an SSH store location; throws InvalidArgument for anything else. */
export function parseSshLocation(location: string): SshLocation {
  if (URL_FORM.test(location)) {
    let url: URL;
    try {
      url = new URL(location);
    } catch (err) {
      throw new InvalidArgument(`invalid SSH store URL '${location}'`, { cause: err });
    }
    if (url.password) {
      throw new InvalidArgument(
        `SSH store URLs take no password (${url.protocol}//${url.host}…); use an SSH key`,
      );
    }
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const path = decodeURIComponent(url.pathname);
    if (!host || path === '' || path === '/') {
      throw new InvalidArgument(
        `'${location}' names no host or store path; expected ssh://[user@]host[:port]/path`,
      );
    }
    return {
      host,
      ...(url.port ? { port: Number(url.port) } : {}),
      ...(url.username ? { user: decodeURIComponent(url.username) } : {}),
      path,
    };
  }
  const m = CASYNC_FORM.exec(location);
  if (!m) {
    throw new InvalidArgument(
      `'${location}' is not an SSH store; expected ssh://[user@]host[:port]/path or host:/path`,
    );
  }
  return { host: m[2], ...(m[1] ? { user: m[1] } : {}), path: m[3] };
}

/** Quotes `text` for a POSIX shell (the remote login shell runs the command line). */
export function shellQuote(text: string): string {
  return `'${text.replaceAll("'", `'\\''`)}'`;
}
