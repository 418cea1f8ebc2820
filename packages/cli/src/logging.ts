import { l8error } from '@layer8/protocol';
import { type Logger, pino } from 'pino';
import type { CliIo } from './io.ts';

/** The levels `--log-level` and `L8_LOG` take, most to least severe. */
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** The fields a process's log lines may carry (docs/observability.md, Logs). */
export interface LogFields {
  /** Node id of the process's VNet or VNic. */
  readonly node?: string | undefined;
  /** Its human name. */
  readonly alias?: string | undefined;
  /** The VNet it is (or is attached to). */
  readonly vnet?: string | undefined;
  readonly service?: string | undefined;
  readonly area?: number | undefined;
}

/**
 * The log level: `--log-level`, else `L8_LOG`, else `info`.
 * @throws L8_ERR_INVALID_ARGUMENT for a level that is not one of {@link LOG_LEVELS}
 */
export function logLevelOf(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  const level = (flag ?? env.L8_LOG ?? 'info').toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw l8error('L8_ERR_INVALID_ARGUMENT', `log level ${level} is not one of ${LOG_LEVELS.join(', ')}`);
  }
  return level;
}

/**
 * The logger of a process the CLI runs: pino, one JSON object a line on the CLI's warning stream
 * (stderr), the level as its name, an ISO time, and `fields` on every line. Libraries get it (or a child)
 * through their `logger` option; request lines add `traceId`, the correlation id of a request chain.
 */
export function processLogger(io: CliIo, level: string, fields: LogFields): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid, ...fields },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    { write: (line: string) => io.warn(line.trimEnd()) },
  );
}
