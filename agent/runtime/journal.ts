import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import * as z from 'zod';
import { TaskFailureReport } from '../../lambdas/agent-protocol';

/**
 * The agent's memory of what it ran, on disk in `<work_dir>/journal`: one file per
 * (task_id, attempt), replaced atomically (write, fsync, rename, fsync the directory) from
 * `started` to `finished` with the answer. A redelivered message of a finished attempt is
 * answered from it and never run again; an attempt left `started` by a crash is failed with
 * `AgentRestarted` when the agent starts again, with the token recorded here.
 */

const Answer = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('success'), output: z.record(z.string(), z.json()) }),
  z.object({ kind: z.literal('failure'), report: TaskFailureReport }),
]);

export const JournalEntry = z.object({
  task_id: z.string(),
  attempt: z.number().int(),
  task_type: z.string(),
  task_token: z.string(),
  started_at: z.string(),
  state: z.enum(['started', 'finished']),
  finished_at: z.string().optional(),
  answer: Answer.optional(),
});
export type JournalEntry = z.infer<typeof JournalEntry>;

/** Finished entries older than this are removed at start. */
export const JOURNAL_RETENTION_MS = 14 * 24 * 3600 * 1000;

export class TaskJournal {
  readonly #dir: string;

  constructor(workDir: string) {
    this.#dir = join(workDir, 'journal');
    mkdirSync(this.#dir, { recursive: true, mode: 0o700 });
  }

  #file(taskId: string, attempt: number): string {
    return join(this.#dir, `${encodeURIComponent(taskId)}.${attempt}.json`);
  }

  read(taskId: string, attempt: number): JournalEntry | undefined {
    return this.#parse(this.#file(taskId, attempt));
  }

  started(entry: Omit<JournalEntry, 'state' | 'started_at'>): JournalEntry {
    const started: JournalEntry = { ...entry, state: 'started', started_at: new Date().toISOString() };
    this.#write(started);
    return started;
  }

  finished(entry: JournalEntry, answer: NonNullable<JournalEntry['answer']>): JournalEntry {
    const finished: JournalEntry = {
      ...entry,
      state: 'finished',
      finished_at: new Date().toISOString(),
      answer,
    };
    this.#write(finished);
    return finished;
  }

  /** Attempts a previous run of the agent left unfinished. */
  inFlight(): JournalEntry[] {
    return this.#all().filter((entry) => entry.state === 'started');
  }

  prune(now = Date.now()): void {
    for (const name of readdirSync(this.#dir)) {
      const file = join(this.#dir, name);
      if (name.endsWith('.tmp')) {
        rmSync(file, { force: true });
        continue;
      }
      const entry = this.#parse(file);
      if (entry?.state === 'finished' && now - statSync(file).mtimeMs > JOURNAL_RETENTION_MS)
        rmSync(file, { force: true });
    }
  }

  #all(): JournalEntry[] {
    return readdirSync(this.#dir)
      .filter((name) => name.endsWith('.json'))
      .map((name) => this.#parse(join(this.#dir, name)))
      .filter((entry): entry is JournalEntry => entry !== undefined);
  }

  #parse(file: string): JournalEntry | undefined {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return undefined;
    }
    try {
      const parsed = JournalEntry.safeParse(JSON.parse(text));
      return parsed.success ? parsed.data : undefined;
    } catch {
      // A torn write cannot happen (rename is atomic), but a hand-edited file can.
      return undefined;
    }
  }

  #write(entry: JournalEntry): void {
    const file = this.#file(entry.task_id, entry.attempt);
    const temporary = `${file}.tmp`;
    const fd = openSync(temporary, 'w', 0o600);
    try {
      writeSync(fd, `${JSON.stringify(entry)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, file);
    const dir = openSync(this.#dir, 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  }
}
