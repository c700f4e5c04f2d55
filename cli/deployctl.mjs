#!/usr/bin/env node
// The `deployctl` bin. `--version` answers from package.json without loading anything
// else (it is what scripts call to check the tool is there); every other command loads
// the TypeScript CLI through tsx, as the `deploy-agent` bin does.
import { readFileSync } from 'node:fs';

const version = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;
const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) {
  process.stdout.write(`${version}\n`);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  const { run } = await import('./main.ts');
  const code = await run(args, version);
  // Let stdout drain (a pipe) before leaving with the code.
  process.exitCode = code;
}
