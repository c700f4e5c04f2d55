/** Structured logs on stdout: one JSON object per line (time, level, message, task_id, …). */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type AgentLogger = (level: LogLevel, message: string, fields?: Record<string, unknown>) => void;

const RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 2, error: 3 };

/** Lines below `least` are dropped; `debug` adds each received message's body. */
export function jsonLogger(
  write: (line: string) => void = (line) => process.stdout.write(line),
  least: LogLevel = 'debug',
): AgentLogger {
  return (level, message, fields = {}) => {
    if (RANK[level] < RANK[least]) return;
    write(`${JSON.stringify({ time: new Date().toISOString(), level, message, ...fields })}\n`);
  };
}
