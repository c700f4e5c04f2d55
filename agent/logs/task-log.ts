import type { TaskLog } from '../executors/executor';
import type { SecretMasker } from './secret-masker';
import type { TaskLogLine, TaskLogSink } from './task-log-sink';

export interface TaskLogOptions {
  readonly taskId: string;
  readonly attempt: number;
  readonly sink: TaskLogSink;
  readonly masker: SecretMasker;
  /** text bytes kept per attempt; past it one line says how much was dropped */
  readonly maxBytes?: number;
  readonly flushIntervalMs?: number;
  /** a write that failed every retry: the log goes on, the task is not failed */
  readonly onWriteError?: (error: unknown, chunk: number) => void;
  readonly now?: () => Date;
  /** waits between retries of one write */
  readonly retryDelaysMs?: readonly number[];
}

export const DEFAULT_MAX_LOG_BYTES_PER_ATTEMPT = 5 * 1024 * 1024;
/** An item holds at most this much text (DynamoDB items are at most 400 KB; we keep well below). */
export const MAX_CHUNK_TEXT_BYTES = 60 * 1024;
export const MAX_CHUNK_LINES = 500;
/** A longer line is split: one line must fit an item with room for others. */
export const MAX_LINE_CHARS = 8 * 1024;
const DEFAULT_RETRY_DELAYS_MS = [200, 1_000, 3_000];

const utf8 = (text: string) => Buffer.byteLength(text, 'utf8');

/**
 * A task attempt's log: splits output into lines, masks secrets, and writes chunks to the
 * sink at most every `flushIntervalMs` (1 s) and at the end, in order, one write at a time.
 * Output without a newline is held until its line ends or the next flush; even then the
 * last characters that might begin a secret stay held, so a secret split across two chunks
 * of output is still masked.
 */
export class TaskLogWriter implements TaskLog {
  readonly #options: TaskLogOptions;
  readonly #maxBytes: number;
  readonly #pending: TaskLogLine[] = [];
  readonly #partial = { stdout: '', stderr: '' };
  /** a partial line is flushed only once it has waited a whole interval (pipes split lines often) */
  readonly #heldSinceLastFlush = { stdout: false, stderr: false };
  #chunk = 0;
  #keptBytes = 0;
  #droppedBytes = 0;
  #truncated = false;
  #closed = false;
  #writes: Promise<void> = Promise.resolve();
  readonly #timer: NodeJS.Timeout;

  constructor(options: TaskLogOptions) {
    this.#options = options;
    this.#maxBytes = options.maxBytes ?? DEFAULT_MAX_LOG_BYTES_PER_ATTEMPT;
    this.#timer = setInterval(() => this.#flush(false), options.flushIntervalMs ?? 1_000);
    this.#timer.unref();
  }

  info(line: string): void {
    for (const text of line.split(/\r?\n/)) this.#append('agent', text);
  }

  output(stream: 'stdout' | 'stderr', chunk: string): void {
    const text = this.#partial[stream] + chunk;
    const lines = text.split('\n');
    this.#partial[stream] = lines.pop() ?? '';
    for (const line of lines) this.#append(stream, line.endsWith('\r') ? line.slice(0, -1) : line);
  }

  /** Writes everything held and waits for every write; later lines are ignored. */
  async close(): Promise<void> {
    if (this.#closed) return this.#writes;
    this.#flush(true);
    this.#closed = true;
    clearInterval(this.#timer);
    return this.#writes;
  }

  #append(stream: TaskLogLine['stream'], raw: string): void {
    if (this.#closed) return;
    const text = this.#options.masker.mask(raw);
    for (let start = 0; start === 0 || start < text.length; start += MAX_LINE_CHARS) {
      this.#keep(stream, text.slice(start, start + MAX_LINE_CHARS));
    }
  }

  #keep(stream: TaskLogLine['stream'], text: string): void {
    const bytes = utf8(text);
    if (this.#truncated || this.#keptBytes + bytes > this.#maxBytes) {
      this.#truncated = true;
      this.#droppedBytes += bytes;
      return;
    }
    this.#keptBytes += bytes;
    this.#pending.push({ at: (this.#options.now?.() ?? new Date()).toISOString(), stream, text });
  }

  #flush(final: boolean): void {
    const { masker } = this.#options;
    for (const stream of ['stdout', 'stderr'] as const) {
      const held = this.#partial[stream];
      const waited = this.#heldSinceLastFlush[stream];
      this.#heldSinceLastFlush[stream] = held !== '';
      if (held === '' || (!final && !waited)) continue;
      const cut = final ? held.length : masker.safeCut(held);
      if (cut === 0) continue;
      this.#partial[stream] = held.slice(cut);
      this.#append(stream, held.slice(0, cut));
    }
    if (final && this.#truncated) {
      const notice = `log truncated: ${this.#droppedBytes} bytes dropped past the limit of ${this.#maxBytes} bytes for this attempt`;
      this.#pending.push({
        at: (this.#options.now?.() ?? new Date()).toISOString(),
        stream: 'agent',
        text: notice,
      });
    }
    while (this.#pending.length > 0) {
      const lines: TaskLogLine[] = [];
      let bytes = 0;
      for (const line of this.#pending) {
        const size = utf8(line.text);
        if (lines.length >= MAX_CHUNK_LINES || (lines.length > 0 && bytes + size > MAX_CHUNK_TEXT_BYTES))
          break;
        lines.push(line);
        bytes += size;
      }
      this.#pending.splice(0, lines.length);
      this.#enqueue(lines, bytes);
    }
  }

  #enqueue(lines: TaskLogLine[], bytes: number): void {
    const { sink, taskId, attempt, onWriteError } = this.#options;
    const chunk = this.#chunk;
    this.#chunk += 1;
    const delays = this.#options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
    this.#writes = this.#writes.then(async () => {
      for (let attemptIndex = 0; ; attemptIndex += 1) {
        try {
          await sink.write({ taskId, attempt, chunk, lines, bytes });
          return;
        } catch (error) {
          const delay = delays[attemptIndex];
          if (delay === undefined) {
            onWriteError?.(error, chunk);
            return;
          }
          await new Promise((resolve) => setTimeout(resolve, delay));
        }
      }
    });
  }
}
