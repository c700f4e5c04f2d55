/** A GitHub markdown table; numbers are right-aligned so columns of figures read well. */
export function markdownTable(
  headers: readonly string[],
  rows: readonly (readonly (string | number)[])[],
  numeric: readonly boolean[] = [],
): string {
  const line = (cells: readonly (string | number)[]) => `| ${cells.map(String).join(' | ')} |`;
  const rule = headers.map((_, index) => (numeric[index] ? '---:' : '---'));
  return [line(headers), line(rule), ...rows.map(line)].join('\n');
}
