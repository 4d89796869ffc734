import type { LogFields, LogLevel, Logger, Severity } from '../ports/logger.port';

const RANK: Record<Severity, number> = { DEBUG: 0, INFO: 1, NOTICE: 2, WARNING: 3, ERROR: 4, CRITICAL: 5 };
const LEVEL_RANK: Record<LogLevel, number> = { debug: 0, info: 1, warn: 3, error: 4, silent: 99 };

// Field names that could carry a secret or a customer's message: their values never reach the log.
const SECRET_FIELD = /key|token|secret|password|credential|authorization|private|body|html|text/i;

function redact(value: unknown, depth = 0): unknown {
  if (depth > 4 || value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  return Object.fromEntries(
    Object.entries(value).map(([k, v]) => [k, SECRET_FIELD.test(k) ? '[redacted]' : redact(v, depth + 1)]),
  );
}

export interface JsonLoggerOptions {
  level: LogLevel;
  write?: (line: string) => void;
  labels?: Record<string, string>;
  /** "projects/P/traces/T", from the incoming request, so Cloud Logging groups a request's entries. */
  trace?: string;
}

/** Cloud Logging's trace field from a W3C `traceparent` (00-TRACEID-SPANID-FLAGS), or undefined. */
export function traceFrom(traceparent: unknown, projectId: string | undefined): string | undefined {
  if (typeof traceparent !== 'string' || !projectId) return undefined;
  const match = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/.exec(traceparent);
  return match ? `projects/${projectId}/traces/${match[1]}` : undefined;
}

/** One JSON object per line in the shape Cloud Logging parses: severity, message, labels, trace. */
export class JsonLogger implements Logger {
  private readonly write: (line: string) => void;

  constructor(private readonly options: JsonLoggerOptions) {
    this.write = options.write ?? ((line) => process.stdout.write(`${line}\n`));
  }

  private log(severity: Severity, message: string, fields: LogFields = {}): void {
    if (RANK[severity] < LEVEL_RANK[this.options.level]) return;
    const entry: Record<string, unknown> = {
      severity,
      message,
      time: new Date().toISOString(),
      ...(redact(fields) as LogFields),
    };
    if (this.options.labels) entry['logging.googleapis.com/labels'] = this.options.labels;
    if (this.options.trace) entry['logging.googleapis.com/trace'] = this.options.trace;
    this.write(JSON.stringify(entry));
  }

  debug(message: string, fields?: LogFields): void {
    this.log('DEBUG', message, fields);
  }
  info(message: string, fields?: LogFields): void {
    this.log('INFO', message, fields);
  }
  warn(message: string, fields?: LogFields): void {
    this.log('WARNING', message, fields);
  }
  error(message: string, fields?: LogFields): void {
    this.log('ERROR', message, fields);
  }

  child(labels: Record<string, string>, trace?: string): Logger {
    return new JsonLogger({
      ...this.options,
      write: this.write,
      labels: { ...this.options.labels, ...labels },
      ...(trace ? { trace } : {}),
    });
  }
}
