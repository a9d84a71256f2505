/**
 * Named errors. Every error a user or operator can meet carries a stable code (searchable, tested against)
 * and a human sentence.
 */
export class NepheleError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
    this.name = 'NepheleError';
  }
}

/** A message from outside that failed validation: counted and dropped, never thrown through a tick loop. */
export interface Rejection {
  readonly ok: false;
  readonly code: string;
  readonly reason: string;
}

export type Decoded<T> = { readonly ok: true; readonly value: T } | Rejection;

export function reject(code: string, reason: string): Rejection {
  return { ok: false, code, reason };
}

export function accept<T>(value: T): Decoded<T> {
  return { ok: true, value };
}
