import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Action } from './actions';
import { SfnServiceError, sfnErrors } from './errors';
import { tryParseJson } from './json';

export interface ProtocolServer {
  readonly endpoint: string;
  close(): Promise<void>;
}

export interface ProtocolServerOptions {
  /** 0 lets the OS pick a free port; `endpoint` tells which. */
  readonly port: number;
  readonly host?: string;
  readonly actions: ReadonlyMap<string, Action>;
}

const TARGET_PREFIX = 'AWSStepFunctions.';
const CONTENT_TYPE = 'application/x-amz-json-1.0';
// Definitions can be large; AWS caps a definition at 1 MB, inputs and outputs at 256 KB.
const MAX_BODY_BYTES = 2 * 1024 * 1024;

/**
 * The Step Functions wire protocol (AWS JSON 1.0): every call is a POST to `/` naming its
 * action in `X-Amz-Target`; failures answer `{"__type", "message"}` with a 4xx/5xx status,
 * from which `@aws-sdk/client-sfn` builds its named exceptions. Signatures are not checked.
 */
export function startProtocolServer(options: ProtocolServerOptions): Promise<ProtocolServer> {
  const host = options.host ?? '127.0.0.1';
  const server = createServer((request, response) => {
    void handle(request, response, options.actions);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, host, () => {
      server.off('error', reject);
      const { port } = server.address() as AddressInfo;
      resolve({
        endpoint: `http://${host}:${port}`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}

async function handle(
  request: IncomingMessage,
  response: ServerResponse,
  actions: ReadonlyMap<string, Action>,
) {
  const requestId = randomUUID();
  try {
    const target = request.headers['x-amz-target'];
    if (request.method !== 'POST' || typeof target !== 'string' || !target.startsWith(TARGET_PREFIX)) {
      throw sfnErrors.unknownOperation(String(target));
    }
    const action = actions.get(target.slice(TARGET_PREFIX.length));
    if (action === undefined) throw sfnErrors.unknownOperation(target);
    const text = await readBody(request);
    const body = text.trim() === '' ? { ok: true as const, value: {} } : tryParseJson(text);
    if (!body.ok) throw new SfnServiceError('SerializationException', 'Request body is not valid JSON');
    send(response, 200, requestId, action(body.value));
  } catch (error) {
    if (error instanceof SfnServiceError) {
      send(response, error.statusCode, requestId, { __type: error.type, message: error.message });
      return;
    }
    // A bug in the stand-in: say so to the caller instead of hanging the request.
    const message = error instanceof Error ? error.message : String(error);
    send(response, 500, requestId, { __type: 'InternalFailure', message });
  }
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new SfnServiceError('ValidationException', 'Request body is too large', 413));
        request.destroy();
        return;
      }
      chunks.push(chunk);
    });
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function send(response: ServerResponse, status: number, requestId: string, body: unknown): void {
  const payload = JSON.stringify(body);
  response.writeHead(status, {
    'content-type': CONTENT_TYPE,
    'content-length': Buffer.byteLength(payload),
    'x-amzn-requestid': requestId,
  });
  response.end(payload);
}
