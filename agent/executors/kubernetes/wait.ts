import { TaskFailure } from '../executor';

/** Waits, or fails with `Aborted` as soon as the signal is aborted. */
export function sleep(ms: number, signal: AbortSignal, doing: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const aborted = () => {
      clearTimeout(timer);
      reject(new TaskFailure('Aborted', `the task was stopped while ${doing}`));
    };
    if (signal.aborted) {
      aborted();
      return;
    }
    timer = setTimeout(() => {
      signal.removeEventListener('abort', aborted);
      resolve();
    }, ms);
    signal.addEventListener('abort', aborted, { once: true });
  });
}
