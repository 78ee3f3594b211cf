import { expect, it } from 'vitest';
import { MemoryDedupeStore, type HoldResult } from 'aicommerce-webhooks';

// What a write to the default store costs in its steady state, where entries leave the old end
// as others come: against the same writes while nothing leaves it, at the same size (100,000, the
// default maxEntries). A store that walked its Map from the old end on each write would step over
// every slot a deleted entry leaves there (V8 keeps them until the Map is rehashed): O(n) a write.

const SIZE = 100_000;
const WRITES = 10_000;

/** Nanoseconds per call of `write`: the median of 5 runs of WRITES calls. */
function nsPerWrite(write: (i: number) => void): number {
  const runs: number[] = [];
  for (let run = 0; run < 5; run++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < WRITES; i++) write(run * WRITES + i);
    runs.push(Number(process.hrtime.bigint() - start) / WRITES);
  }
  return runs.sort((a, b) => a - b)[2]!;
}

const held = (result: HoldResult) => {
  if (result.status !== 'held') throw new Error(`expected held, got ${result.status}`);
  return result;
};

it('latest wins in memory, 100,000 entities: updating the one updated longest ago costs ≤ 4 × the first update of a new one (no walk over deleted slots)', (context) => {
  const store = new MemoryDedupeStore({ maxEntries: 1_000_000 });
  const update = (key: string) => held(store.hold(key, 1)).applied(600_000);
  for (let i = 0; i < SIZE; i++) update(`old/${i}`);
  const fresh = nsPerWrite((i) => update(`new/${i}`)); // appended: nothing leaves the old end
  const oldest = nsPerWrite((i) => update(`old/${i}`)); // each moves from the old end to the young one
  context.annotate(`${oldest.toFixed(0)} ns for the entity updated longest ago, ${fresh.toFixed(0)} ns for a new one`);
  expect(oldest / fresh).toBeLessThanOrEqual(4);
});
