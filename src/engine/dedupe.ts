import { BEGINNING } from '../time/instant.js';

/**
 * Remembers eventIds for a bounded stretch of event time, so at-least-once redeliveries count once while memory
 * stays proportional to the event rate, not to history.
 *
 * Two generations of ids, each spanning `horizon` of the newest event time: an id is remembered for at least the
 * horizon and at most twice it, and expiry drops a whole generation at once instead of scanning ids. Per id this is
 * a set entry, with no timestamp to box.
 */
export interface DedupeSnapshot {
  /** Newest-event time at which the current generation closes. */
  end: number;
  current: string[];
  previous: string[];
}

export class Deduper {
  private current = new Set<string>();
  private previous = new Set<string>();
  private end = BEGINNING;

  constructor(private readonly horizon: number) {}

  get size(): number {
    return this.current.size + this.previous.size;
  }

  /** True when the id was seen within the horizon; otherwise remembers it. `newest` is the newest event time so far. */
  isDuplicate(eventId: string, newest: number): boolean {
    if (newest >= this.end) this.rotate(newest);
    if (this.current.has(eventId) || this.previous.has(eventId)) return true;
    this.current.add(eventId);
    return false;
  }

  private rotate(newest: number): void {
    const contiguous = newest < this.end + this.horizon;
    this.previous = contiguous ? this.current : new Set();
    this.current = new Set();
    this.end = contiguous ? this.end + this.horizon : newest + this.horizon;
  }

  snapshot(): DedupeSnapshot {
    return { end: this.end, current: [...this.current], previous: [...this.previous] };
  }

  restore(s: DedupeSnapshot): void {
    this.end = s.end;
    this.current = new Set(s.current);
    this.previous = new Set(s.previous);
  }
}
