import { InvalidArgument } from '@desync/core';

/** Where to listen: a host (undefined: every interface) and a TCP port (0: any free port). */
export interface ListenAddress {
  readonly host: string | undefined;
  readonly port: number;
}

// Service names Go's net package (and so desync's -l) accepts for the two ports that matter.
const SERVICES: Readonly<Record<string, number>> = { http: 80, https: 443 };

/**
 * Parses `HOST:PORT`, `[IPv6]:PORT` or `:PORT` (every interface), as desync's `-l` does;
 * PORT is a number or `http`/`https`.
 * @throws InvalidArgument for anything else.
 */
export function parseListenAddress(spec: string): ListenAddress {
  const colon = spec.lastIndexOf(':');
  if (colon < 0) throw new InvalidArgument(`listen address '${spec}' has no port; use HOST:PORT or :PORT`);
  let host = spec.slice(0, colon);
  const portText = spec.slice(colon + 1);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  else if (host.includes(':')) {
    throw new InvalidArgument(`listen address '${spec}': write IPv6 hosts in brackets, like [::1]:8080`);
  }
  const port = SERVICES[portText] ?? (/^\d{1,5}$/.test(portText) ? Number(portText) : Number.NaN);
  if (!(port >= 0 && port <= 65535)) {
    throw new InvalidArgument(`listen address '${spec}': port must be 0-65535, http or https`);
  }
  return { host: host === '' ? undefined : host, port };
}
