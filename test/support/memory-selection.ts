import { MemorySelectionFiles } from '../../lambdas/select-tickets/memory-files.js';

/**
 * SelectTickets' files in memory (the step's own MemorySelectionFiles) for the unit tests: every operation is logged
 * in `ops`, and `failNext` makes the next call of an operation fail.
 */
export class MemorySelection extends MemorySelectionFiles {
  ops: string[] = [];
  /** Fail the next call of this operation with the given error. */
  failNext = new Map<string, Error>();

  constructor() {
    super('archive-bucket');
  }

  protected override check(op: string): void {
    this.ops.push(op);
    const error = this.failNext.get(op);
    if (error) {
      this.failNext.delete(op);
      throw error;
    }
  }
}
