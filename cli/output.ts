/** How a command prints: a table for people, JSON for machines. */
export type OutputFormat = 'text' | 'json' | 'ndjson';

export function parseOutput(value: string | undefined): OutputFormat {
  if (value === undefined || value === 'text' || value === 'json' || value === 'ndjson')
    return value ?? 'text';
  throw new Error(`--output must be text, json or ndjson, not "${value}"`);
}

export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows)
    row.forEach((cell, index) => {
      widths[index] = Math.max(widths[index] ?? 0, [...cell].length);
    });
  return rows
    .map((row) =>
      row
        .map((cell, index) => (index === row.length - 1 ? cell : cell.padEnd(widths[index] ?? 0)))
        .join('  '),
    )
    .join('\n');
}

export function print(format: OutputFormat, value: unknown, text: () => string): void {
  if (format === 'json') process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  else if (format === 'ndjson') {
    const items = Array.isArray(value) ? value : [value];
    for (const item of items) process.stdout.write(`${JSON.stringify(item)}\n`);
  } else process.stdout.write(`${text()}\n`);
}
