/**
 * Remembers eventIds for a bounded stretch of event time, so at-least-once redeliveries count once
 * while memory stays proportional to the event rate, not to history.
 */
export class Deduper {
  /** Insertion order is arrival order, which is close to event-time order: expiry scans from the front. */
  private readonly seen = new Map<string, number>();

  constructor(private readonly horizon: number) {}

  get size(): number {
    return this.seen.size;
  }

  /** True when the id was already seen within the horizon; otherwise remembers it. */
  isDuplicate(eventId: string, ts: number): boolean {
    if (this.seen.has(eventId)) return true;
    this.seen.set(eventId, ts);
    return false;
  }

  /** Forgets ids older than the horizon behind the newest event time. */
  expire(newest: number): void {
    const cutoff = newest - this.horizon;
    for (const [id, ts] of this.seen) {
      if (ts >= cutoff) break;
      this.seen.delete(id);
    }
  }

  snapshot(): Array<[string, number]> {
    return [...this.seen];
  }

  restore(entries: Array<[string, number]>): void {
    this.seen.clear();
    for (const [id, ts] of entries) this.seen.set(id, ts);
  }
}
