import * as z from 'zod';

/** UTC, second precision, with a `Z`: `2024-10-24T10:00:00Z`, as the spec writes them. */
export const Timestamp = z.iso
  .datetime()
  .describe('UTC timestamp, e.g. 2024-10-24T10:00:00Z')
  .meta({ id: 'Timestamp' });

export const nowTimestamp = (date: Date = new Date()): string => date.toISOString().replace(/\.\d{3}Z$/, 'Z');

/** A required, trimmed, non-empty string of bounded length. */
export const Text = (max: number) => z.string().trim().min(1).max(max);

/**
 * A repository URL. It becomes part of list-partition keys, and DynamoDB caps a key at
 * 2048 bytes, so the URL is bounded in bytes (not characters) well below that.
 */
export const RepositoryUrl = z
  .string()
  .trim()
  .min(1)
  .refine((value) => Buffer.byteLength(value, 'utf8') <= 1024, 'at most 1024 bytes')
  // What git clones over the network (https, ssh, git, or scp-like `git@host:org/repo.git`),
  // never a local path or an option: agents hand it to git.
  .regex(
    /^(?:(?:https?|ssh|git):\/\/[^\s/@-][^\s]*|[\w.-]+@[\w.-]+:[^\s-][^\s]*)$/,
    'a repository URL: https://, ssh://, git:// or user@host:path',
  );

/** Free-form string → string map the spec uses for `config`. Values may be any JSON scalar. */
export const ConfigMap = z
  .record(z.string().min(1).max(128), z.union([z.string().max(65_536), z.number(), z.boolean()]))
  .refine((config) => Object.keys(config).length <= 100, 'at most 100 config keys');

export const MAX_PAGE_SIZE = 100;
/** Page-number paging reads past the skipped items, so how deep a page may go is bounded. */
export const MAX_PAGE = 1_000;

/**
 * A whole number from the query string, with one message whatever is wrong with it. Decimal
 * digits only: no sign, space, exponent, fraction or hex (`1e2`, `0x10`, ` 2` are refused).
 */
export const queryInteger = (name: string, max: number, fallback: number) => {
  const message = `${name} must be a whole number from 1 to ${max}`;
  return z
    .string({ error: message })
    .regex(/^\d{1,7}$/, { error: message })
    .transform(Number)
    .pipe(z.number().int().min(1, { error: message }).max(max, { error: message }))
    .optional()
    .transform((value) => value ?? fallback);
};

/** Longest cursor the API hands out; anything longer cannot be one of its cursors. */
export const MAX_CURSOR_LENGTH = 2048;

export const ListOrder = z
  .enum(['newest', 'oldest'])
  .describe(
    'newest first (default) or oldest first; tasks of one deployment oldest first list in pipeline order',
  )
  .meta({ id: 'ListOrder' });
export type ListOrder = z.infer<typeof ListOrder>;

const paginationShape = {
  page: queryInteger('page', MAX_PAGE, 1),
  page_size: queryInteger('page_size', MAX_PAGE_SIZE, 20),
  cursor: z
    .string()
    .min(1)
    .max(MAX_CURSOR_LENGTH)
    .optional()
    .describe(
      'next_cursor of the previous answer: the next page, without duplicates or gaps while items are added',
    ),
  sort: ListOrder.optional(),
};

/** A list's query string: its filters plus `page` / `page_size` / `cursor` / `sort`; unknown parameters are rejected. */
export const listQuery = <F extends z.ZodRawShape>(filters: F) =>
  z.strictObject({ ...filters, ...paginationShape });

export interface PageRequest {
  readonly page: number;
  readonly page_size: number;
  /** continue after the last item of an earlier page (then `page` comes from the cursor) */
  readonly cursor?: string | undefined;
  readonly sort?: ListOrder | undefined;
}

export const BooleanQuery = z.enum(['true', 'false']).transform((value) => value === 'true');

export interface Page<T> {
  readonly items: readonly T[];
  readonly total: number;
  /** the page these items are (from the request, or from its cursor) */
  readonly page: number;
  /** continues after the last item; null when there is nothing after it */
  readonly nextCursor: string | null;
}

/** The list answer of a page: `{<plural>: [...], total, page, page_size, next_cursor}`. */
export function listAnswer<K extends string, T>(
  key: K,
  page: Page<T>,
  request: PageRequest,
): { [P in K]: T[] } & { total: number; page: number; page_size: number; next_cursor: string | null } {
  return {
    [key]: [...page.items],
    total: page.total,
    page: page.page,
    page_size: request.page_size,
    next_cursor: page.nextCursor,
  } as { [P in K]: T[] } & { total: number; page: number; page_size: number; next_cursor: string | null };
}

export const listResponse = <K extends string, T extends z.ZodType>(key: K, item: T) =>
  z.object({
    [key]: z.array(item),
    total: z.number().int().min(0),
    page: z.number().int().min(1),
    page_size: z.number().int().min(1),
    next_cursor: z
      .string()
      .nullable()
      .describe('pass as `cursor` for the next page; null when this page is the last'),
  } as { [P in K]: z.ZodArray<T> } & {
    total: z.ZodNumber;
    page: z.ZodNumber;
    page_size: z.ZodNumber;
    next_cursor: z.ZodNullable<z.ZodString>;
  });

export const DeletedResponse = z.object({ message: z.string() }).meta({ id: 'DeletedResponse' });

export const IdParam = z.string().min(1).max(64);
