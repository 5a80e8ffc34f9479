/**
 * A FIFO drained in slices of bounded time that yield to the event loop between them, so
 * long work (a million-message broadcast, messages under `workMs`) never keeps the admin API
 * or the other sockets waiting for more than one slice.
 */
import { performance } from 'node:perf_hooks';

/**
 * A queue whose items are handled by `handle`, about `sliceMs` of them per turn. `handle`
 * does one unit of an item's work and says whether the item is spent (a broadcast of N
 * messages is one item that stays at the head until its N are sent).
 */
export class BudgetedQueue<T> {
  private items: T[] = [];
  private head = 0;
  private isScheduled = false;
  private isStopped = false;

  constructor(
    private readonly handle: (item: T) => boolean,
    private readonly sliceMs: number,
  ) {}

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
    this.schedule();
  }

  /** Handles items in order until the slice is spent; an item handler may push again. */
  private drain(): void {
    this.isScheduled = false;
    const until = performance.now() + this.sliceMs;
    while (this.head < this.items.length && !this.isStopped) {
      let isSpent = true;
      try {
        isSpent = this.handle(this.items[this.head]!);
      } catch {
        // an item that throws is dropped, not retried: the queue must keep draining
      }
      if (isSpent) this.head++;
      if (performance.now() >= until) break;
    }
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    if (this.length > 0) this.schedule();
  }

  private schedule(): void {
    if (this.isScheduled || this.isStopped) return;
    this.isScheduled = true;
    setImmediate(() => this.drain());
  }

  /** Drops what is left; nothing more is handled. */
  stop(): void {
    this.isStopped = true;
    this.items = [];
    this.head = 0;
  }
}
