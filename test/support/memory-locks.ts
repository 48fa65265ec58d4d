import type { Holder, LockClaim, TicketLocks } from '../../lambdas/shared/ticket-lock.js';

/** The ticket lock in memory, with the same rules as dynamoTicketLocks (which is tested against dynalite). */
export class MemoryTicketLocks implements TicketLocks {
  held = new Map<string, Holder>();
  running = new Set<string>();

  async claim(ticketId: string, me: Holder): Promise<LockClaim> {
    const holder = this.held.get(ticketId);
    if (!holder || holder.executionName === me.executionName || !this.running.has(holder.executionArn)) {
      this.held.set(ticketId, me);
      return { acquired: true };
    }
    return { acquired: false, holder };
  }

  async release(ticketId: string, executionName: string): Promise<void> {
    if (this.held.get(ticketId)?.executionName === executionName) this.held.delete(ticketId);
  }
}

export const execution = (name = 'zd-7-1'): Holder => ({ executionName: name, executionArn: `arn:aws:states:us-east-1:000000000000:execution:vault:${name}` });
