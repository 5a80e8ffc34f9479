/**
 * Throw-away certificates for loopback TLS tests, made in this process with WebCrypto (the
 * `selfsigned` package): no `openssl` command on the machine, so the TLS tests run wherever
 * `npm install && npm test` does. Written as PEM files, since the CLI under test takes paths.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import selfsigned from 'selfsigned';

/** A certificate and its key, as PEM text and as the files they were written to. */
export interface TestCert {
  key: string;
  cert: string;
  keyFile: string;
  certFile: string;
}

/** Options of {@link makeCert}. */
export interface CertOptions {
  /** The name or address the certificate is for (its CN and subjectAltName). @default '127.0.0.1' */
  host?: string;
  /** Last valid moment. @default a day from now */
  notAfter?: Date;
  /** First valid moment. @default an hour ago */
  notBefore?: Date;
  /** File name prefix in `dir`. @default '' */
  name?: string;
}

/** Makes a self-signed certificate for `host` and writes `key.pem` and `cert.pem` (with the prefix) into `dir`. */
export async function makeCert(dir: string, options: CertOptions = {}): Promise<TestCert> {
  const host = options.host ?? '127.0.0.1';
  const isIp = /^[\d.]+$|:/.test(host);
  const notBeforeDate = options.notBefore ?? new Date(Date.now() - 3_600_000);
  const pems = await selfsigned.generate([{ name: 'commonName', value: host }], {
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate: options.notAfter ?? new Date(Date.now() + 86_400_000),
    extensions: [{ name: 'subjectAltName', altNames: [isIp ? { type: 7, ip: host } : { type: 2, value: host }] }],
  });
  const prefix = options.name ?? '';
  const keyFile = join(dir, `${prefix}key.pem`);
  const certFile = join(dir, `${prefix}cert.pem`);
  writeFileSync(keyFile, pems.private);
  writeFileSync(certFile, pems.cert);
  return { key: pems.private, cert: pems.cert, keyFile, certFile };
}
