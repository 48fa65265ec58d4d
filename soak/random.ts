import { createHash } from 'node:crypto';

/**
 * The soak's randomness. Everything is drawn from the seed, in two ways:
 * - a sequence (Rng) where the order is fixed: the tickets' shapes, the kill schedule;
 * - a pure function of the seed and a name (draws) where the order is not: a request's fault depends only on the seed,
 *   the request's identity and how many times that identity was seen before, so concurrent runs that interleave
 *   differently still give each request the same fault.
 */

/** mulberry32: small, fast, good enough for shapes (not for secrets). */
export class Rng {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0 || 0x9e3779b9;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
}

/** Eight uniform numbers in [0, 1) that depend only on the parts (SHA-256 of them, 32 bits each). */
export function draws(...parts: Array<string | number>): number[] {
  const digest = createHash('sha256').update(parts.join('|')).digest();
  return Array.from({ length: 8 }, (_, i) => digest.readUInt32BE(i * 4) / 4294967296);
}

/** A 31-bit seed from any seed text (the --seed flag may be a word). */
export function seedNumber(seed: string): number {
  return createHash('sha256').update(seed).digest().readUInt32BE(0) & 0x7fffffff;
}
