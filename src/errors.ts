/**
 * Errors a user can fix (bad path, bad value, missing package). The CLI prints the message
 * on one line and exits with `exitCode`; anything else is an internal error (exit 3).
 */
export class UserError extends Error {
  readonly exitCode = 2;
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}

/** A check the harness makes on an attack's output failed: a bug, never the user's fault. */
export class IntegrityError extends Error {
  readonly exitCode = 3;
  constructor(message: string) {
    super(message);
    this.name = 'IntegrityError';
  }
}
