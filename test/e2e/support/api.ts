import { waitUntil } from './processes';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface Reply {
  readonly status: number;
  readonly headers: Headers;
  /** parsed JSON, or the raw text when the body is not JSON */
  readonly body: Json;
  readonly text: string;
}

export interface CallOptions {
  /** a value to send as JSON, or a string sent as it is */
  readonly body?: unknown;
  /** the bearer token; null sends no Authorization header */
  readonly token?: string | null;
  readonly headers?: Readonly<Record<string, string>>;
}

/** A small client of the local API over real HTTP, as curl would call it. */
export class ApiClient {
  constructor(
    readonly apiUrl: string,
    readonly token: string,
  ) {}

  as(token: string): ApiClient {
    return new ApiClient(this.apiUrl, token);
  }

  async call(method: string, path: string, options: CallOptions = {}): Promise<Reply> {
    const token = options.token === undefined ? this.token : options.token;
    const headers: Record<string, string> = { ...options.headers };
    if (token !== null) headers.authorization = `Bearer ${token}`;
    let body: string | undefined;
    if (options.body !== undefined) {
      body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await fetch(`${this.apiUrl}${path}`, { method, headers, body });
    const text = await response.text();
    let parsed: Json = text;
    try {
      parsed = JSON.parse(text) as Json;
    } catch {
      // not JSON: keep the text
    }
    return { status: response.status, headers: response.headers, body: parsed, text };
  }

  get = (path: string, options?: CallOptions) => this.call('GET', path, options);
  post = (path: string, body: unknown = {}, options?: CallOptions) =>
    this.call('POST', path, { ...options, body });
  put = (path: string, body: unknown, options?: CallOptions) => this.call('PUT', path, { ...options, body });
  delete = (path: string, options?: CallOptions) => this.call('DELETE', path, options);

  /** The call must answer `status`; its body as an object. */
  async expect(status: number, method: string, path: string, options: CallOptions = {}): Promise<JsonObject> {
    const reply = await this.call(method, path, options);
    if (reply.status !== status) {
      throw new Error(`${method} ${path}: expected ${status}, got ${reply.status}: ${reply.text}`);
    }
    return asObject(reply.body);
  }

  /** Polls GET `path` until `done` holds for its body. */
  async waitFor(
    path: string,
    done: (body: JsonObject) => boolean,
    what: string,
    timeoutMs = 30_000,
    intervalMs = 50,
  ): Promise<JsonObject> {
    let last: JsonObject = {};
    try {
      await waitUntil(
        what,
        async () => {
          last = await this.expect(200, 'GET', path);
          return done(last);
        },
        timeoutMs,
        intervalMs,
      );
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new Error(`${reason}; last answer: ${JSON.stringify(last)}`);
    }
    return last;
  }

  /** Waits until the deployment has finished (success or failed) and returns it. */
  waitForDeployment(id: string, timeoutMs = 30_000, intervalMs = 50): Promise<JsonObject> {
    return this.waitFor(
      `/deployments/${id}`,
      (deployment) => deployment.status === 'success' || deployment.status === 'failed',
      `deployment ${id} to finish`,
      timeoutMs,
      intervalMs,
    );
  }

  async tasksOf(deploymentId: string): Promise<JsonObject[]> {
    const list = await this.expect(200, 'GET', `/tasks?deployment_id=${deploymentId}&page_size=100`);
    return asObjects(list.tasks);
  }
}

export function asObject(value: Json | undefined): JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`expected a JSON object, got ${JSON.stringify(value)}`);
  }
  return value;
}

export function asObjects(value: Json | undefined): JsonObject[] {
  if (!Array.isArray(value)) throw new Error(`expected a JSON array, got ${JSON.stringify(value)}`);
  return value.map(asObject);
}

export function asString(value: Json | undefined): string {
  if (typeof value !== 'string') throw new Error(`expected a string, got ${JSON.stringify(value)}`);
  return value;
}
