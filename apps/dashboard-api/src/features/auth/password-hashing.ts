// argon2id hashing with the §6 floor (m=19 MiB, t=2, p=1). Verification runs behind a small
// concurrency limit with a bounded queue: a login storm waits its turn or is refused at once,
// instead of starving every other request of CPU.
import os from 'node:os';
import argon2 from 'argon2';
import type { Config } from '../../config.ts';
import { serviceUnavailable } from '../../platform/errors.ts';

export interface Argon2Params {
  memoryCost: number; // KiB
  timeCost: number;
  parallelism: number;
}

export const DEFAULT_ARGON2: Argon2Params = { memoryCost: 19_456, timeCost: 2, parallelism: 1 };

export interface HashingLimits {
  maxConcurrent: number;
  maxQueued: number;
}

/**
 * One core fewer than the machine has (at least one): hashing never takes every core, so the
 * event loop and the database keep one for other requests during a login storm.
 */
export const defaultHashingLimits = (): HashingLimits => ({ maxConcurrent: Math.max(1, os.availableParallelism() - 1), maxQueued: 32 });

export class ConcurrencyLimiter {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    readonly maxConcurrent: number,
    readonly maxQueued: number,
  ) {}

  /** Runs `work` when a slot is free; throws 503 at once when the queue is full. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.active >= this.maxConcurrent) {
      if (this.waiting.length >= this.maxQueued) {
        throw serviceUnavailable('server_busy', 'Too many sign-ins in progress; try again in a moment.', 1);
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.active++;
    }
    try {
      return await work();
    } finally {
      const nextInLine = this.waiting.shift();
      if (nextInLine) nextInLine();
      else this.active--;
    }
  }
}

export class PasswordHasher {
  private readonly limiter: ConcurrencyLimiter;
  private dummyHash: Promise<string> | undefined;

  constructor(
    readonly params: Argon2Params = DEFAULT_ARGON2,
    readonly limits: HashingLimits = defaultHashingLimits(),
  ) {
    this.limiter = new ConcurrencyLimiter(limits.maxConcurrent, limits.maxQueued);
    // Made now, so the first unknown email does not pay for it (and does not stand out).
    this.dummyHash = argon2.hash('dummy-password-for-timing', { type: argon2.argon2id, ...this.params });
    this.dummyHash.catch(() => undefined);
  }

  static fromConfig(config: Pick<Config, 'passwordHashing'>): PasswordHasher {
    const { memoryCost, timeCost, parallelism, maxConcurrent, maxQueued } = config.passwordHashing;
    const defaults = defaultHashingLimits();
    return new PasswordHasher({ memoryCost, timeCost, parallelism }, { maxConcurrent: maxConcurrent ?? defaults.maxConcurrent, maxQueued });
  }

  hash(password: string): Promise<string> {
    return this.limiter.run(() => argon2.hash(password, { type: argon2.argon2id, ...this.params }));
  }

  /** Verifies against the stored hash, or against a dummy hash when there is none (same cost). */
  async verify(storedHash: string | null, password: string): Promise<boolean> {
    const hash = storedHash ?? (await (this.dummyHash ??= argon2.hash('dummy-password-for-timing', { type: argon2.argon2id, ...this.params })));
    const ok = await this.limiter.run(() => argon2.verify(hash, password).catch(() => false));
    return ok && storedHash !== null;
  }

  /** True when a stored hash is not argon2id with the current parameters (rehash at next login). */
  needsRehash(storedHash: string): boolean {
    return !storedHash.startsWith('$argon2id$') || argon2.needsRehash(storedHash, { ...this.params });
  }
}
