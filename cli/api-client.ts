import * as z from 'zod';
import { CliError, EXIT, exitCodeForStatus } from './exit-codes';

const ApiErrorBody = z.object({
  error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
});

/** A failed API call: its status, code and message, as the API said them. */
export class ApiError extends CliError {
  constructor(
    readonly status: number,
    code: string,
    message: string,
  ) {
    super(message, exitCodeForStatus(status), code);
    this.name = 'ApiError';
  }
}

export interface ApiClientOptions {
  readonly apiUrl: string;
  /** the bearer token, asked for on each call so a refreshed one is used */
  readonly token: () => Promise<string>;
  readonly fetch?: typeof fetch;
}

const ListPage = z.object({ next_cursor: z.string().nullable() }).catchall(z.unknown());

export type Query = Readonly<Record<string, string | number | undefined>>;

/** The deploy-manager REST API over fetch; every call can be aborted (the --timeout). */
export class ApiClient {
  readonly apiUrl: string;
  readonly #token: () => Promise<string>;
  readonly #fetch: typeof fetch;

  constructor(options: ApiClientOptions) {
    this.apiUrl = options.apiUrl.replace(/\/+$/, '');
    this.#token = options.token;
    this.#fetch = options.fetch ?? fetch;
  }

  async call<T>(
    method: string,
    path: string,
    schema: z.ZodType<T>,
    options: { query?: Query; body?: unknown; signal?: AbortSignal } = {},
  ): Promise<T> {
    const url = new URL(`${this.apiUrl}${path}`);
    for (const [name, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    const headers: Record<string, string> = { authorization: `Bearer ${await this.#token()}` };
    let body: string | undefined;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] = 'application/json';
    }
    let response: Response;
    try {
      response = await this.#fetch(url, { method, headers, body, signal: options.signal });
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      const reason =
        error instanceof Error
          ? error.cause instanceof Error
            ? error.cause.message
            : error.message
          : String(error);
      throw new CliError(`cannot reach ${this.apiUrl}: ${reason}`, EXIT.deploymentFailed, 'UNREACHABLE');
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text.length > 0 ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!response.ok) {
      const error = ApiErrorBody.safeParse(parsed);
      if (error.success) throw new ApiError(response.status, error.data.error.code, error.data.error.message);
      const message =
        typeof parsed === 'object' && parsed !== null && 'message' in parsed
          ? String((parsed as { message: unknown }).message)
          : `${method} ${url.pathname} answered ${response.status}`;
      throw new ApiError(response.status, `HTTP_${response.status}`, message);
    }
    const result = schema.safeParse(parsed);
    if (!result.success)
      throw new CliError(
        `${method} ${url.pathname}: unexpected answer from the API`,
        EXIT.deploymentFailed,
        'BAD_RESPONSE',
      );
    return result.data;
  }

  get<T>(path: string, schema: z.ZodType<T>, query?: Query, signal?: AbortSignal): Promise<T> {
    return this.call('GET', path, schema, { query, signal });
  }

  post<T>(path: string, schema: z.ZodType<T>, body: unknown = {}, signal?: AbortSignal): Promise<T> {
    return this.call('POST', path, schema, { body, signal });
  }

  put<T>(path: string, schema: z.ZodType<T>, body: unknown): Promise<T> {
    return this.call('PUT', path, schema, { body });
  }

  delete<T>(path: string, schema: z.ZodType<T>): Promise<T> {
    return this.call('DELETE', path, schema);
  }

  /** Every item of a list, page after page through `next_cursor`. */
  async listAll<T>(
    path: string,
    key: string,
    item: z.ZodType<T>,
    query: Query = {},
    signal?: AbortSignal,
    max = 10_000,
  ): Promise<T[]> {
    const items: T[] = [];
    let cursor: string | undefined;
    do {
      const answer = await this.get(path, ListPage, { ...query, page_size: 100, cursor }, signal);
      const page = z.array(item).safeParse(answer[key]);
      if (!page.success)
        throw new CliError(
          `GET ${path}: unexpected answer from the API`,
          EXIT.deploymentFailed,
          'BAD_RESPONSE',
        );
      items.push(...page.data);
      cursor = answer.next_cursor ?? undefined;
    } while (cursor !== undefined && items.length < max);
    return items;
  }
}
