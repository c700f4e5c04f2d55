import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A Step Functions double speaking the real JSON 1.0 protocol for the three calls an agent
 * makes. It records every call; a token can be cancelled (the deployment was cancelled:
 * heartbeats and answers then fail with TaskTimedOut), and an answered token is spent
 * (answering it again fails with TaskTimedOut, as on AWS).
 */
export interface SfnCall {
  readonly action: 'SendTaskSuccess' | 'SendTaskFailure' | 'SendTaskHeartbeat';
  readonly taskToken: string;
  readonly output?: string;
  readonly error?: string;
  readonly cause?: string;
  /** the double's answer: ok, or the error name it returned */
  readonly answer: 'ok' | 'TaskTimedOut';
}

export interface SfnDouble {
  readonly endpoint: string;
  readonly calls: SfnCall[];
  cancel(token: string): void;
  /** answers and heartbeats of one token */
  callsFor(token: string): SfnCall[];
  answersFor(token: string): SfnCall[];
  stop(): Promise<void>;
}

export async function startSfnDouble(): Promise<SfnDouble> {
  const calls: SfnCall[] = [];
  const spent = new Set<string>();
  const cancelled = new Set<string>();

  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    let body = '';
    for await (const chunk of request) body += String(chunk);
    const target = String(request.headers['x-amz-target'] ?? '');
    const action = target.split('.').pop() as SfnCall['action'];
    const input = JSON.parse(body || '{}') as Record<string, string | undefined>;
    const taskToken = input.taskToken ?? '';
    const gone = cancelled.has(taskToken) || spent.has(taskToken);
    calls.push({
      action,
      taskToken,
      ...(input.output === undefined ? {} : { output: input.output }),
      ...(input.error === undefined ? {} : { error: input.error }),
      ...(input.cause === undefined ? {} : { cause: input.cause }),
      answer: gone ? 'TaskTimedOut' : 'ok',
    });
    if (gone) {
      response.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' });
      response.end(JSON.stringify({ __type: 'TaskTimedOut', message: 'Task Timed Out' }));
      return;
    }
    if (action !== 'SendTaskHeartbeat') spent.add(taskToken);
    response.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
    response.end('{}');
  };

  const server: Server = createServer((request, response) => {
    handle(request, response).catch(() => {
      response.writeHead(500);
      response.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    calls,
    cancel: (token) => cancelled.add(token),
    callsFor: (token) => calls.filter((call) => call.taskToken === token),
    answersFor: (token) =>
      calls.filter((call) => call.taskToken === token && call.action !== 'SendTaskHeartbeat'),
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
