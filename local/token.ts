import { parseArgs } from 'node:util';
import { loadOrCreateSigningKeys } from './auth/keys';
import { DEFAULT_TOKEN_TTL_SECONDS, signToken } from './auth/tokens';

/**
 * `npm run token -- --email you@example.com [--groups admins,deployers]`: prints a bearer
 * token for the local API and nothing else, so `TOKEN=$(npm run -s token -- …)` works. The
 * server need not run: both read the same key pair in .local/keys/.
 */
const USAGE = 'usage: npm run -s token -- --email you@example.com [--groups admins,deployers] [--hours 12]';

function fail(message: string): never {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  let values: { email?: string; groups?: string; hours?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      options: {
        email: { type: 'string' },
        groups: { type: 'string' },
        hours: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  const email = values.email?.trim();
  if (email === undefined || !/^[^\s@]+@[^\s@]+$/.test(email)) fail('--email must be an e-mail address');
  const groups = (values.groups ?? '')
    .split(',')
    .map((group) => group.trim())
    .filter((group) => group.length > 0);
  const hours = values.hours === undefined ? undefined : Number(values.hours);
  if (hours !== undefined && !(Number.isFinite(hours) && hours > 0))
    fail('--hours must be a positive number');
  const keys = await loadOrCreateSigningKeys();
  const token = await signToken(keys, {
    email,
    groups,
    ttlSeconds: hours === undefined ? DEFAULT_TOKEN_TTL_SECONDS : Math.round(hours * 3600),
  });
  process.stdout.write(`${token}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`token: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
