import { backfillManifestKey, backfillPartsPrefix } from '../shared/backfill-files.js';
import type { SelectionFiles, SelectionMarker } from './files.js';
import { groupParts, mergeSorted, parsePartName, partName, type PartName } from './merge.js';
import { keyOfLine, lineOf, type TicketKey } from './order.js';

/**
 * SelectTickets' files in memory, joined with the step's own merge (merge.ts): the selection of `backfill --dry-run`,
 * which must write no archive object, and of the unit tests. Nothing leaves the process.
 */
export class MemorySelectionFiles implements SelectionFiles {
  /** Part key (as in S3) -> its sorted keys. */
  readonly parts = new Map<string, TicketKey[]>();
  /** Run ID -> the manifest's lines, as joinParts wrote them. */
  readonly manifests = new Map<string, string[]>();
  readonly markers = new Map<string, SelectionMarker>();

  constructor(readonly bucket = 'memory') {}

  /** Called first by every operation with its name (tests count and fail operations here). */
  protected check(op: string): void {
    void op;
  }

  async clearParts(runId: string): Promise<void> {
    this.check('clearParts');
    this.deleteUnder(backfillPartsPrefix(runId));
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
      const sources = group.map((part) => {
        const keys = this.parts.get(part.key)!;
        return (async function* () {
          yield* keys;
        })();
      });
      for await (const key of mergeSorted(sources)) lines.push(lineOf(key));
    }
    this.manifests.set(runId, lines);
    return lines.length;
  }

  async readMarker(runId: string): Promise<SelectionMarker | undefined> {
    this.check('readMarker');
    const marker = this.markers.get(runId);
    return marker ? { ...marker } : undefined;
  }

  async writeMarker(runId: string, marker: SelectionMarker): Promise<void> {
    this.check('writeMarker');
    this.markers.set(runId, { ...marker });
  }

  async deleteParts(runId: string, selection: string): Promise<void> {
    this.check('deleteParts');
    this.deleteUnder(backfillPartsPrefix(runId, selection));
  }

  /** The manifest's tickets in order: what the Map's ItemReader would read from backfill/{runId}/tickets.jsonl. */
  manifest(runId: string): Array<{ ticketId: string; createdAt: string }> {
    return (this.manifests.get(runId) ?? []).map((line) => {
      const key = keyOfLine(line);
      if (!key) throw new Error(`not a manifest line of ${backfillManifestKey(runId)}`);
      return JSON.parse(line) as { ticketId: string; createdAt: string };
    });
  }

  private deleteUnder(prefix: string): void {
    for (const key of [...this.parts.keys()]) if (key.startsWith(prefix)) this.parts.delete(key);
  }
}

export function memorySelectionFiles(bucket?: string): MemorySelectionFiles {
  return new MemorySelectionFiles(bucket);
}
