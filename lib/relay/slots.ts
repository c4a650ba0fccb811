/**
 * A counting semaphore with a bounded wait list: the relay's backpressure. `acquire()` resolves
 * true when a slot is free (at once, or after waiting in arrival order), or false when the wait
 * list is full or the relay is stopping: the caller then leaves its message unacked.
 */
export class Slots {
  private inUse = 0;
  private readonly queue: ((granted: boolean) => void)[] = [];
  private readonly idleWaiters: (() => void)[] = [];

  constructor(
    private readonly capacity: number,
    private readonly maxWaiting: number,
  ) {}

  get active(): number {
    return this.inUse;
  }

  get waiting(): number {
    return this.queue.length;
  }

  acquire(): Promise<boolean> {
    if (this.inUse < this.capacity) {
      this.inUse += 1;
      return Promise.resolve(true);
    }
    if (this.queue.length >= this.maxWaiting) return Promise.resolve(false);
    return new Promise((resolve) => this.queue.push(resolve));
  }

  release(): void {
    const next = this.queue.shift();
    if (next) {
      next(true); // the slot passes straight to the next waiter
      return;
    }
    this.inUse -= 1;
    if (this.inUse === 0) for (const waiter of this.idleWaiters.splice(0)) waiter();
  }

  /** Refuses everyone still waiting (shutdown). */
  rejectWaiting(): void {
    for (const waiter of this.queue.splice(0)) waiter(false);
  }

  /** Resolves true once no slot is in use, or false after `timeoutMs`. */
  idle(timeoutMs: number): Promise<boolean> {
    if (this.inUse === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.idleWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}
