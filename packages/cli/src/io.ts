/** What commands use of the outside world, injected so tests can run them in-process. */
export interface CliIo {
  readonly env: NodeJS.ProcessEnv;
  out(line: string): void;
  warn(line: string): void;
  /** Resolves when the process is asked to stop (SIGINT, SIGTERM). */
  untilStopped(): Promise<void>;
}

/** The real process's I/O. */
export function processIo(): CliIo {
  return {
    env: process.env,
    out: (line) => process.stdout.write(`${line}\n`),
    warn: (line) => process.stderr.write(`${line}\n`),
    untilStopped: () =>
      new Promise((resolve) => {
        process.once('SIGINT', () => resolve());
        process.once('SIGTERM', () => resolve());
      }),
  };
}
