import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

/** A certificate and its key, as PEM files and their contents. */
export interface Certificate {
  certFile: string;
  keyFile: string;
  cert: string;
  key: string;
}

/**
 * Makes a self-signed P-256 certificate for the IP address `ip` (subject and IP
 * subjectAltName; default 127.0.0.1) with the openssl command, valid for two days; `name`
 * names its files in `dir` (`NAME.crt`, `NAME.key`). Self-signed certificates are CA:TRUE,
 * so each is its own CA (for --ca-cert and --client-ca).
 */
export async function makeSelfSignedCertificate(
  dir: string,
  name: string,
  ip = '127.0.0.1',
): Promise<Certificate> {
  const certFile = join(dir, `${name}.crt`);
  const keyFile = join(dir, `${name}.key`);
  await promisify(execFile)('openssl', [
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    keyFile,
    '-out',
    certFile,
    '-days',
    '2',
    '-subj',
    `/CN=${ip}/O=desync test ${name}`,
    '-addext',
    `subjectAltName=IP:${ip}`,
  ]);
  return { certFile, keyFile, cert: await readFile(certFile, 'utf8'), key: await readFile(keyFile, 'utf8') };
}
