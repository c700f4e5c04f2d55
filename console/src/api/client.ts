import type { FieldIssue } from './types';

/** A failed call, carrying the API's `{error: {code, message, details}}` for the page to show. */
export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly fields: readonly FieldIssue[],
  ) {
    super(message);
    this.name = 'ApiFailure';
  }

  fieldMessage(field: string): string | undefined {
    return (
      this.fields
        .filter((issue) => issue.field === field || issue.field.startsWith(`${field}.`))
        .map((issue) => issue.message)
        .join('; ') || undefined
    );
  }
}

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

function fieldsOf(details: unknown): FieldIssue[] {
  if (!Array.isArray(details)) return [];
  return details.flatMap((item) =>
    isRecord(item) && typeof item.field === 'string' && typeof item.message === 'string'
      ? [{ field: item.field, message: item.message }]
      : [],
  );
}

export function failureOf(status: number, body: unknown): ApiFailure {
  const error = isRecord(body) && isRecord(body.error) ? body.error : undefined;
  const message =
    error !== undefined && typeof error.message === 'string'
      ? error.message
      : `The API answered ${status} without an error message`;
  const code = error !== undefined && typeof error.code === 'string' ? error.code : 'HTTP_ERROR';
  return new ApiFailure(status, code, message, fieldsOf(error?.details));
}

export interface ApiClient {
  get<T>(path: string, query?: Record<string, string | undefined>): Promise<T>;
  send<T>(method: 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T>;
}

export function createApiClient(
  baseUrl: string,
  token: () => string | undefined,
  onUnauthorized: () => void,
): ApiClient {
  const call = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const headers: Record<string, string> = { accept: 'application/json' };
    const bearer = token();
    if (bearer !== undefined) headers.authorization = `Bearer ${bearer}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(`${baseUrl}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiFailure(0, 'NETWORK_ERROR', 'The API cannot be reached; check your connection', []);
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text.length > 0 ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!response.ok) {
      if (response.status === 401) onUnauthorized();
      throw failureOf(response.status, parsed);
    }
    return parsed as T;
  };
  return {
    get: (path, query) => {
      const params = new URLSearchParams();
      for (const [name, value] of Object.entries(query ?? {})) {
        if (value !== undefined && value !== '') params.set(name, value);
      }
      const search = params.toString();
      return call('GET', search.length > 0 ? `${path}?${search}` : path);
    },
    send: (method, path, body) => call(method, path, body ?? (method === 'DELETE' ? undefined : {})),
  };
}
