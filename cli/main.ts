import { Command, CommanderError, Option } from 'commander';
import { registerCatalog } from './commands/catalog';
import type { Context } from './commands/context';
import { registerDeployments } from './commands/deployments';
import { registerLogin } from './commands/login';
import { EXIT, EXIT_CODES_HELP, type ExitCode, errorLine, exitCodeOf } from './exit-codes';
import { type OutputFormat, parseOutput } from './output';
import { openSession } from './session';

export const ENVIRONMENT_HELP = `Environment:
  DEPLOYCTL_PROFILE   the profile to use (else --profile, else "default")
  DEPLOYCTL_TOKEN     a bearer token to use instead of a profile (CI)
  DEPLOYCTL_API_URL   the API URL that goes with DEPLOYCTL_TOKEN
  XDG_CONFIG_HOME     profiles live in $XDG_CONFIG_HOME/deployctl (else ~/.config/deployctl)`;

export function buildProgram(): Command {
  const program = new Command('deployctl');
  const context: Context = {
    api: () => openSession({ profile: program.opts<{ profile?: string }>().profile }),
    output: (): OutputFormat => parseOutput(program.opts<{ output?: string }>().output),
    profile: () => program.opts<{ profile?: string }>().profile,
  };
  program
    .description('Drive deploy-manager deployments from a terminal or CI')
    .option('--profile <name>', 'the profile to use (DEPLOYCTL_PROFILE)')
    .addOption(
      new Option('-o, --output <format>', 'text, json or ndjson').choices(['text', 'json', 'ndjson']),
    )
    .showHelpAfterError('(deployctl --help for usage)')
    .addHelpText(
      'after',
      `\n${EXIT_CODES_HELP}\n\n${ENVIRONMENT_HELP}\n\ndeployctl --version (or -V) prints the version.`,
    )
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(text.replace(/^error: /, 'error: ')) });
  registerLogin(program, context);
  registerCatalog(program, context);
  registerDeployments(program, context);
  for (const command of program.commands) {
    command.exitOverride();
    for (const sub of command.commands) sub.exitOverride();
  }
  return program;
}

/** Runs deployctl with `argv` (no node and script); returns the exit code. */
export async function run(argv: readonly string[], version: string): Promise<ExitCode> {
  // Not a commander option: `deploy --version <tag>` must reach the deploy command.
  if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-V')) {
    process.stdout.write(`${version}\n`);
    return EXIT.success;
  }
  const program = buildProgram();
  try {
    process.exitCode = undefined;
    await program.parseAsync([...argv], { from: 'user' });
    return (process.exitCode as ExitCode | undefined) ?? EXIT.success;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (
        error.code === 'commander.helpDisplayed' ||
        error.code === 'commander.version' ||
        error.code === 'commander.help'
      )
        return EXIT.success;
      // commander already printed its message (and the help hint)
      return EXIT.usage;
    }
    process.stderr.write(`${errorLine(error)}\n`);
    return exitCodeOf(error);
  }
}
