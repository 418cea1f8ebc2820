import { readSecretFromStdin } from './secret-prompt.ts';

/** What commands use of the outside world, injected so tests can run them in-process. */
export interface CliIo {
  readonly env: NodeJS.ProcessEnv;
  out(line: string): void;
  warn(line: string): void;
  /** Resolves when the process is asked to stop (SIGINT, SIGTERM). */
  untilStopped(): Promise<void>;
  /** Reads a secret (a password) from the user without echoing it; absent where there is no one to ask. */
  readSecret?(prompt: string): Promise<string>;
}

/** The real process's I/O. */
export function processIo(): CliIo {
  return {
    env: process.env,
    out: (line) => process.stdout.write(`${line}\n`),
    warn: (line) => process.stderr.write(`${line}\n`),
    readSecret: readSecretFromStdin,
    untilStopped: () =>
      new Promise((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      }),
  };
}
