import { readFile } from 'node:fs/promises';
import { usageError } from './exit-codes';

/** `90s`, `10m`, `1h`, `500ms` or plain seconds. */
export function parseDuration(value: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(value.trim());
  if (!match) throw usageError(`"${value}" is not a duration (e.g. 90s, 10m, 1h)`);
  const amount = Number(match[1]);
  const unit = match[2] ?? 's';
  const factor = unit === 'ms' ? 1 : unit === 's' ? 1000 : unit === 'm' ? 60_000 : 3_600_000;
  return Math.round(amount * factor);
}

/** `--config key=value` pairs; `true`/`false` and numbers keep their JSON type. */
export function parseConfigPairs(pairs: readonly string[]): Record<string, string | number | boolean> {
  const config: Record<string, string | number | boolean> = {};
  for (const pair of pairs) {
    const equals = pair.indexOf('=');
    if (equals <= 0) throw usageError(`--config takes key=value, not "${pair}"`);
    const key = pair.slice(0, equals);
    const raw = pair.slice(equals + 1);
    config[key] =
      raw === 'true' ? true : raw === 'false' ? false : /^-?\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw;
  }
  return config;
}

export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** The object of `-f file.json` (`-` reads stdin). */
export async function readJsonFile(path: string): Promise<Record<string, unknown>> {
  let text: string;
  try {
    text = path === '-' ? await readStdin() : await readFile(path, 'utf8');
  } catch (error) {
    throw usageError(`cannot read ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw usageError(`${path} is not JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw usageError(`${path} must hold a JSON object`);
  return value as Record<string, unknown>;
}

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
