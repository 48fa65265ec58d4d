import { backfillPartsPrefix } from '../../lambdas/shared/backfill-files.js';
import type { SelectionFiles, SelectionMarker } from '../../lambdas/select-tickets/files.js';
import { groupParts, mergeSorted, parsePartName, partName, type PartName } from '../../lambdas/select-tickets/merge.js';
import { lineOf, type TicketKey } from '../../lambdas/select-tickets/order.js';

/** SelectTickets' files in memory, joined with the step's own merge (merge.ts); every operation is logged in `ops`. */
export class MemorySelection implements SelectionFiles {
  readonly bucket = 'archive-bucket';
  parts = new Map<string, TicketKey[]>();
  manifests = new Map<string, string[]>();
  markers = new Map<string, SelectionMarker>();
  ops: string[] = [];
  /** Fail the next call of this operation with the given error. */
  failNext = new Map<string, Error>();

  private check(op: string): void {
    this.ops.push(op);
    const error = this.failNext.get(op);
    if (error) {
      this.failNext.delete(op);
      throw error;
    }
  }

  async clearParts(runId: string): Promise<void> {
    this.check('clearParts');
    for (const key of [...this.parts.keys()]) if (key.startsWith(backfillPartsPrefix(runId))) this.parts.delete(key);
  }

  async writePart(runId: string, selection: string, seq: number, keys: readonly TicketKey[]): Promise<void> {
    this.check('writePart');
    this.parts.set(partName(backfillPartsPrefix(runId, selection), keys[0]!, keys[keys.length - 1]!, seq), [...keys]);
  }

  async joinParts(runId: string, selection: string): Promise<number> {
    this.check('joinParts');
    const prefix = backfillPartsPrefix(runId, selection);
    const names = [...this.parts.keys()].map((k) => parsePartName(prefix, k)).filter((p): p is PartName => p !== undefined);
    const lines: string[] = [];
    for (const group of groupParts(names)) {
      const parts = this.parts;
      const sources = group.map((part) => (async function* () { yield* parts.get(part.key)!; })());
      for await (const key of mergeSorted(sources)) lines.push(lineOf(key));
    }
    this.manifests.set(runId, lines);
    return lines.length;
  }

  async readMarker(runId: string): Promise<SelectionMarker | undefined> {
    this.check('readMarker');
    return this.markers.get(runId);
  }

  async writeMarker(runId: string, marker: SelectionMarker): Promise<void> {
    this.check('writeMarker');
    this.markers.set(runId, { ...marker });
  }

  async deleteParts(runId: string, selection: string): Promise<void> {
    this.check('deleteParts');
    for (const key of [...this.parts.keys()]) if (key.startsWith(backfillPartsPrefix(runId, selection))) this.parts.delete(key);
  }

  /** The manifest as `{ticketId, createdAt}` objects. */
  manifest(runId: string): Array<{ ticketId: string; createdAt: string }> {
    return (this.manifests.get(runId) ?? []).map((line) => JSON.parse(line) as { ticketId: string; createdAt: string });
  }
}
