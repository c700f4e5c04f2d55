import { createPublicKey, randomBytes } from 'node:crypto';
import { link, mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type CryptoKey,
  calculateJwkThumbprint,
  exportJWK,
  exportPKCS8,
  generateKeyPair,
  importPKCS8,
  importSPKI,
} from 'jose';

export const SIGNING_ALGORITHM = 'RS256';

/** `.local/keys/` at the repository root: git-ignored, survives restarts, shared with `npm run token`. */
export const DEFAULT_KEYS_DIR = fileURLToPath(new URL('../../.local/keys', import.meta.url));

const PRIVATE_KEY_FILE = 'jwt-signing-key.pem';
const PUBLIC_KEY_FILE = 'jwt-signing-key.pub.pem';

export interface SigningKeys {
  /** key id (`kid`): the RFC 7638 thumbprint of the public key */
  readonly keyId: string;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  readonly directory: string;
}

/** The keys folder: `LOCAL_KEYS_DIR` when set (tests use a temporary one), else `.local/keys/`. */
export function keysDirectory(environment: NodeJS.ProcessEnv = process.env): string {
  const configured = environment.LOCAL_KEYS_DIR;
  return configured !== undefined && configured.length > 0 ? configured : DEFAULT_KEYS_DIR;
}

function isErrno(error: unknown, code: string): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === code;
}

/**
 * Publishes `content` under `path` only if nothing is there yet. The server and
 * `npm run token` may both create the pair on a first start: writing a temporary file and
 * hard-linking it into place is atomic, so the loser of that race reads the winner's key
 * instead of overwriting a key that already signed tokens.
 */
async function createExclusively(path: string, content: string): Promise<void> {
  const temporary = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temporary, content, { mode: 0o600 });
  try {
    await link(temporary, path);
  } catch (error) {
    if (!isErrno(error, 'EEXIST')) throw error;
  } finally {
    await unlink(temporary);
  }
}

async function readPrivateKeyPem(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if (isErrno(error, 'ENOENT')) return undefined;
    throw error;
  }
}

/**
 * Loads the local signing key pair, generating it on first use. Only the private key is
 * authoritative; the public key is derived from it (and also written out, for people who
 * want to verify tokens with other tools).
 */
export async function loadOrCreateSigningKeys(directory: string = keysDirectory()): Promise<SigningKeys> {
  await mkdir(directory, { recursive: true, mode: 0o700 });
  const privatePath = join(directory, PRIVATE_KEY_FILE);
  let pem = await readPrivateKeyPem(privatePath);
  if (pem === undefined) {
    const pair = await generateKeyPair(SIGNING_ALGORITHM, { extractable: true, modulusLength: 2048 });
    await createExclusively(privatePath, await exportPKCS8(pair.privateKey));
    pem = await readFile(privatePath, 'utf8');
  }
  let privateKey: CryptoKey;
  try {
    privateKey = await importPKCS8(pem, SIGNING_ALGORITHM, { extractable: false });
  } catch {
    throw new Error(`${privatePath} is not a PKCS#8 RSA private key; delete ${directory} to get a new pair`);
  }
  const publicPem = createPublicKey(pem).export({ type: 'spki', format: 'pem' }).toString();
  const publicKey = await importSPKI(publicPem, SIGNING_ALGORITHM, { extractable: true });
  await writePublicKey(join(directory, PUBLIC_KEY_FILE), publicPem);
  const keyId = await calculateJwkThumbprint(await exportJWK(publicKey));
  return { keyId, privateKey, publicKey, directory };
}

/** Rewritten on every load (same content), atomically so a reader never sees half a file. */
async function writePublicKey(path: string, pem: string): Promise<void> {
  const existing = await readFile(path, 'utf8').catch(() => undefined);
  if (existing === pem) return;
  const temporary = `${path}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temporary, pem, { mode: 0o644 });
  await rename(temporary, path);
}
