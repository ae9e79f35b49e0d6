import pino, { type Logger } from 'pino';

/**
 * JSON logs on stderr (stdout carries command output such as exports). Authorization headers and tokens are never
 * passed to the logger; the redaction is a second line of defence.
 */
export function supportLogger(name: string, level = process.env.FAIRUSE_LOG_LEVEL ?? 'info'): Logger {
  return pino({ name, level, redact: { paths: ['token', '*.token', 'authorization', '*.authorization', 'headers.authorization'], censor: '[redacted]' } }, pino.destination(2));
}

export type { Logger };
