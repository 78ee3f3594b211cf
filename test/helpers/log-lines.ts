import { Writable } from 'node:stream';
import pino from 'pino';

// A real pino logger writing JSON lines to a stream the test reads: what an operator's log
// pipeline would receive.

/** One record as pino writes it (no pid, hostname or time). */
export interface Line {
  level: number;
  msg: string;
  code?: string;
  status?: number;
  event?: string;
  deliveryId?: string;
  issues?: { path: string; message: string }[];
  err?: { type: string; message: string; stack: string; aggregateErrors?: { message: string }[] };
}
export const WARN = 40;
export const ERROR = 50;

export function pinoToLines(): { logger: pino.Logger; readonly lines: Line[]; text: () => string } {
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      raw.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      callback();
    },
  });
  // No pid, hostname or time in the records, so that they can be compared whole.
  const logger = pino({ base: null, timestamp: false }, stream);
  return {
    logger,
    /** Every line written so far, parsed. */
    get lines() {
      return raw.map((line) => JSON.parse(line) as Line);
    },
    text: () => raw.join('\n'),
  };
}
