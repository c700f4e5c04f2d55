import { TaskFailure } from './executor';

/** Reading a step's `payload.config` (JSON the template, application and environment merged). */
type Config = Readonly<Record<string, unknown>>;

export function optionalString(config: Config, key: string): string | undefined {
  const value = config[key];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new TaskFailure('InvalidStepConfig', `config.${key} must be a string`);
  return value;
}

export function optionalNumber(config: Config, key: string): number | undefined {
  const value = config[key];
  if (value === undefined || value === null || value === '') return undefined;
  const number = typeof value === 'string' ? Number(value) : value;
  if (typeof number !== 'number' || !Number.isFinite(number))
    throw new TaskFailure('InvalidStepConfig', `config.${key} must be a number`);
  return number;
}

export function optionalStrings(config: Config, key: string): string[] | undefined {
  const value = config[key];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || !value.every((item): item is string => typeof item === 'string'))
    throw new TaskFailure('InvalidStepConfig', `config.${key} must be a list of strings`);
  return value;
}
