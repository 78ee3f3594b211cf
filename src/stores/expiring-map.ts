/**
 * A bounded map whose entries expire: insertion order ≈ age, so expired entries are swept from the
 * old end a few at a time and, when full, the oldest goes first. No timer keeps the process alive.
 */
/** Every this many writes, up to this many expired entries are swept from the old end. */
const SWEEP_EVERY = 8;

export class ExpiringMap<Value extends { readonly expiresAt: number }> {
  readonly #entries = new Map<string, Value>();
  readonly #maxEntries: number;
  /**
   * The old end, read by one iterator that only moves forward: a new iterator would step over every
   * slot a deleted entry leaves at the front of the Map until it is rehashed (O(n) a write once full).
   */
  #cursor: Iterator<[string, Value]> | undefined;
  #writes = 0;
  #head: [string, Value] | undefined;

  constructor(maxEntries: number) {
    this.#maxEntries = maxEntries;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** The entry, while it holds: through its last millisecond, as Redis holds a key. */
  get(key: string, now: number): Value | undefined {
    const value = this.#entries.get(key);
    return value !== undefined && value.expiresAt >= now ? value : undefined;
  }

  /** Stores `value` as the youngest entry. */
  set(key: string, value: Value, now: number): void {
    this.#entries.delete(key); // re-inserting moves it to the young end
    // Expired entries are swept a few at a time every few writes (the size bound holds on every one).
    let budget = ++this.#writes % SWEEP_EVERY === 0 ? SWEEP_EVERY : 0;
    while (this.#entries.size >= this.#maxEntries || budget-- > 0) {
      const old = this.#oldest();
      if (old === undefined || (this.#entries.size < this.#maxEntries && old[1].expiresAt >= now)) break;
      this.#entries.delete(old[0]);
    }
    this.#entries.set(key, value);
  }

  /** Deletes `key` only while it still holds `value` (never a newer entry of the same key). */
  deleteIf(key: string, value: Value): void {
    if (this.#entries.get(key) === value) this.#entries.delete(key);
  }

  /** The oldest entry still held. The cursor sees entries set after it was made; one deleted or set again since it was read is passed over. */
  #oldest(): [string, Value] | undefined {
    while (this.#head === undefined || this.#entries.get(this.#head[0]) !== this.#head[1]) {
      this.#cursor ??= this.#entries.entries();
      const next = this.#cursor.next();
      if (next.done === true) {
        this.#cursor = this.#head = undefined; // a finished iterator stays finished: the next call starts a new one
        return undefined;
      }
      this.#head = next.value;
    }
    return this.#head;
  }
}
