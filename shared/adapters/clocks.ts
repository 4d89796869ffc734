import type { Clock } from '../ports/clock.port';

export const systemClock: Clock = { now: () => new Date() };

/** A clock that only moves when told to: tests and the demo use it to cross days in seconds. */
export class SettableClock implements Clock {
  private current: number;

  constructor(start: Date | string = '2026-01-01T00:00:00Z') {
    this.current = new Date(start).getTime();
  }

  now(): Date {
    return new Date(this.current);
  }

  set(to: Date | string): void {
    this.current = new Date(to).getTime();
  }

  advance(milliseconds: number): void {
    this.current += milliseconds;
  }
}
