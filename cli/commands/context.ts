import type { ApiClient } from '../api-client';
import type { OutputFormat } from '../output';

/** What every command gets from the global options. */
export interface Context {
  /** the signed-in API client (exit 5 when there is none) */
  api(): Promise<ApiClient>;
  output(): OutputFormat;
  profile(): string | undefined;
}
