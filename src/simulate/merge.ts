import { MinHeap } from './heap.js';

/** A time-ordered stream that yields nothing before `start`. */
export interface TimedSource<T> {
  readonly start: number;
  readonly items: Iterable<T>;
}

interface Cursor<T> {
  item: T;
  time: number;
  readonly rest: Iterator<T>;
  readonly order: number;
}

/**
 * Merges time-ordered sources into one time-ordered stream, lazily. Sources must arrive in `start` order;
 * each is opened only when the merge reaches its start, so memory holds one pending item per open source,
 * never the streams themselves. Ties go to the earlier-opened source, keeping the output deterministic.
 */
export function* mergeByTime<T>(sources: Iterable<TimedSource<T>>, timeOf: (item: T) => number): Generator<T> {
  const open = new MinHeap<Cursor<T>>((a, b) => a.time < b.time || (a.time === b.time && a.order < b.order));
  const upcoming = sources[Symbol.iterator]();
  let next = upcoming.next();
  let opened = 0;
  for (;;) {
    while (!next.done && (open.size === 0 || next.value.start <= (open.peek() as Cursor<T>).time)) {
      const rest = next.value.items[Symbol.iterator]();
      const first = rest.next();
      if (!first.done) open.push({ item: first.value, time: timeOf(first.value), rest, order: opened++ });
      next = upcoming.next();
    }
    const earliest = open.peek();
    if (!earliest) return;
    yield earliest.item;
    const following = earliest.rest.next();
    if (following.done) {
      open.pop();
    } else {
      earliest.item = following.value;
      earliest.time = timeOf(following.value);
      open.replaceTop(earliest);
    }
  }
}
