/** Structured logs on stdout: one JSON object per line (time, level, message, task_id, …). */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type AgentLogger = (level: LogLevel, message: string, fields?: Record<string, unknown>) => void;

export function jsonLogger(
  write: (line: string) => void = (line) => process.stdout.write(line),
): AgentLogger {
  return (level, message, fields = {}) => {
    write(`${JSON.stringify({ time: new Date().toISOString(), level, message, ...fields })}\n`);
  };
}
