/**
 * Remote commands run through the remote user's shell, so every value put into one is
 * quoted: single quotes keep everything literal except a single quote, which is closed,
 * escaped and reopened (`it's` → `'it'\''s'`).
 */
export const shellQuote = (value: string): string => `'${value.replaceAll("'", `'\\''`)}'`;

/** A piece of shell text that expands to one word: a quoted value or a quoted variable. */
export interface ShellWord {
  readonly word: string;
}
export const literalWord = (value: string): ShellWord => ({ word: shellQuote(value) });
export const variableWord = (name: string): ShellWord => ({ word: `"$${name}"` });

/** The values a command template may name as `{name}`. */
export const TEMPLATE_VARIABLES = [
  'application',
  'git_tag',
  'image',
  'host',
  'port',
  'slot',
  'release_root',
  'release_dir',
  'current_dir',
] as const;
export type TemplateVariable = (typeof TEMPLATE_VARIABLES)[number];
/** A value left undefined is one the environment lacks (`{port}` without `app_port`). */
export type TemplateValues = Readonly<Record<TemplateVariable, string | undefined>>;

export class MissingTemplateValue extends Error {
  override readonly name = 'MissingTemplateValue';
  constructor(readonly variable: TemplateVariable) {
    super(`{${variable}} has no value`);
  }
}

const PLACEHOLDER = new RegExp(`\\{(${TEMPLATE_VARIABLES.join('|')})\\}`, 'g');

/**
 * Fills an operator's command template: each known `{name}` becomes its value, shell-quoted.
 * Anything else in braces (`${HOME}`, `{ a; b; }`) is left to the shell as written.
 */
export const renderCommand = (template: string, values: TemplateValues): string =>
  template.replace(PLACEHOLDER, (_match, name: TemplateVariable) => {
    const value = values[name];
    if (value === undefined) throw new MissingTemplateValue(name);
    return shellQuote(value);
  });
