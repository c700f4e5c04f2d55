import { writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { buildOpenApiDocument } from '../lambdas/api/openapi';

/** Where the committed contract lives; test/unit/openapi.test.ts compares it with the code. */
export const OPENAPI_FILE = fileURLToPath(new URL('../docs/openapi.json', import.meta.url));

/** 2-space JSON with a final newline: the same bytes for the same routes, so diffs stay small. */
export const formatOpenApi = (document: object): string => `${JSON.stringify(document, null, 2)}\n`;

async function main(): Promise<void> {
  await writeFile(OPENAPI_FILE, formatOpenApi(buildOpenApiDocument()));
  console.log(`wrote ${OPENAPI_FILE}`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await main();
}
