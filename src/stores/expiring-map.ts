/**
 * A bounded map whose entries expire: insertion order ≈ age, so expired entries are swept from the
 * old end a few at a time and, when full, the oldest goes first. No timer keeps the process alive.
 */
export class ExpiringMap<Value extends { readonly expiresAt: number }> {
  readonly #entries = new Map<string, Value>();
  readonly #maxEntries: number;

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
    let budget = 2;
    for (const [oldKey, old] of this.#entries) {
      if (this.#entries.size >= this.#maxEntries || (budget-- > 0 && old.expiresAt < now)) this.#entries.delete(oldKey);
      else break;
    }
    this.#entries.set(key, value);
  }

  /** Deletes `key` only while it still holds `value` (never a newer entry of the same key). */
  deleteIf(key: string, value: Value): void {
    if (this.#entries.get(key) === value) this.#entries.delete(key);
  }
}
