import * as z from 'zod';

/**
 * Characters no free-text field takes: C0 and C1 controls and DEL (`\p{Cc}`: NUL, ESC of ANSI
 * escapes…), the bidi marks, embeddings, overrides and isolates that make text read other
 * than it is stored (U+061C, U+200E/F, U+202A–U+202E, U+2066–U+2069), line and paragraph
 * separators and the byte-order mark. Names end up in terminals, logs and consoles.
 */
const CONTROL_CHARACTERS = /[\p{Cc}\u061C\u200E\u200F\u2028\u2029\u202A-\u202E\u2066-\u2069\uFEFF]/u;

/** The same, except the tab and line breaks a multi-line text (a description, a kubeconfig) has. */
const CONTROL_CHARACTERS_IN_MULTILINE =
  /(?![\t\n\r])[\p{Cc}\u061C\u200E\u200F\u2028\u2029\u202A-\u202E\u2066-\u2069\uFEFF]/u;

export const CONTROL_CHARACTERS_MESSAGE = 'must not contain control characters (C0/C1, DEL, bidi controls)';

export const hasControlCharacters = (value: string): boolean => CONTROL_CHARACTERS.test(value);

export const hasControlCharactersInMultiline = (value: string): boolean =>
  CONTROL_CHARACTERS_IN_MULTILINE.test(value);

/** A required, trimmed, non-empty single-line text of bounded length, without control characters. */
export const SingleLineText = (max: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max)
    .refine((value) => !hasControlCharacters(value), CONTROL_CHARACTERS_MESSAGE);

/** Multi-line free text (tabs and line breaks allowed), of bounded length, without other controls. */
export const MultilineText = (max: number) =>
  z
    .string()
    .max(max)
    .refine((value) => !hasControlCharactersInMultiline(value), CONTROL_CHARACTERS_MESSAGE);

/**
 * The text rules for a config map: keys are single-line names; string values may span lines
 * (a kubeconfig, a PEM key) but take no other control characters. One issue per bad entry.
 */
export function checkConfigText(config: Readonly<Record<string, unknown>>, context: z.RefinementCtx): void {
  for (const [key, value] of Object.entries(config)) {
    if (hasControlCharacters(key)) {
      context.addIssue({ code: 'custom', path: [key], message: `config keys ${CONTROL_CHARACTERS_MESSAGE}` });
    } else if (typeof value === 'string' && hasControlCharactersInMultiline(value)) {
      context.addIssue({ code: 'custom', path: [key], message: CONTROL_CHARACTERS_MESSAGE });
    }
  }
}
