/**
 * NDJSON logging with pino. Key material never reaches a log line: nothing logs keys, and the
 * redaction list below is a second line of defence for fields that could hold them.
 */
import { pino, type Logger, type DestinationStream } from 'pino'

export type { Logger }

export function createLogger (options: { level?: string, destination?: DestinationStream } = {}): Logger {
  return pino({
    level: options.level ?? 'info',
    base: { service: 'scitt-node' },
    redact: { paths: ['secretKey', 'seed', 'skey', '*.secretKey', '*.seed', '*.skey', '*.d'], censor: '[redacted]' },
  }, options.destination)
}

/** A logger that drops everything (tests, embedding). */
export function silentLogger (): Logger {
  return pino({ level: 'silent' })
}
