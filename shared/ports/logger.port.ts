/** How much a logger writes; configuration (LOG_LEVEL) picks one. */
export const LOG_LEVELS = ['debug', 'info', 'warn', 'error', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
/**
 * The levels a deployed function may run at: the log-based metrics and their alerts count info events, so a higher
 * level would silence them (Terraform's variable validation allows only these).
 */
export const DEPLOYED_LOG_LEVELS = ['debug', 'info'] as const satisfies readonly LogLevel[];

export type Severity = 'DEBUG' | 'INFO' | 'NOTICE' | 'WARNING' | 'ERROR' | 'CRITICAL';

/** Fields are structured context (ids, counts); never keys, tokens or e-mail bodies. */
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger whose entries all carry these labels (runId, chunk, ...). */
  child(labels: Record<string, string>, trace?: string): Logger;
}
