import type { SecretMasker } from '../logs/secret-masker';

/** A JSON value with every string (keys included) masked. */
export function maskJson<T>(value: T, masker: SecretMasker): T {
  return mask(value, masker) as T;
}

function mask(value: unknown, masker: SecretMasker): unknown {
  if (typeof value === 'string') return masker.mask(value);
  if (Array.isArray(value)) return value.map((item) => mask(item, masker));
  if (typeof value === 'object' && value !== null)
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [masker.mask(key), mask(item, masker)]),
    );
  return value;
}
