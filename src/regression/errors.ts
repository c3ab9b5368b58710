/**
 * A check found a regression: not an error of the user or of advtest, so the CLI's main()
 * maps it to its own exit code (1) after the command has printed its table.
 */
export class RegressionFound extends Error {
  readonly exitCode = 1;
  constructor(message: string) {
    super(message);
    this.name = 'RegressionFound';
  }
}
