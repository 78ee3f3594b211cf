// Time per operation, sampled round-robin across contenders (each round in the opposite order to
// the last) so that drift on a shared machine lands on every contender alike; the median is kept.

export interface TimedOp {
  readonly name: string;
  /** One operation; a promise is awaited, as its caller would. */
  readonly run: () => unknown;
}

export interface TimingOptions {
  readonly samples: number;
  /** Roughly how long one sample of one contender lasts. */
  readonly sampleMs: number;
}

let sink: unknown; // results are kept here so no operation can be optimised away

async function loop(op: TimedOp, iterations: number): Promise<number> {
  const first = op.run();
  const isAsync = first instanceof Promise;
  if (isAsync) await first;
  const start = process.hrtime.bigint();
  if (isAsync) for (let i = 0; i < iterations; i++) sink = await op.run();
  else for (let i = 0; i < iterations; i++) sink = op.run();
  return Number(process.hrtime.bigint() - start) / iterations;
}

/** How many iterations make one sample last about `sampleMs`. */
async function calibrate(op: TimedOp, sampleMs: number): Promise<number> {
  let iterations = 64;
  for (;;) {
    const ns = (await loop(op, iterations)) * iterations;
    if (ns > sampleMs * 1e6 * 0.25) return Math.max(1, Math.round((iterations * sampleMs * 1e6) / ns));
    iterations *= 4;
  }
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};

/** Median nanoseconds per operation of each contender. */
export async function timePerOp(ops: readonly TimedOp[], { samples, sampleMs }: TimingOptions): Promise<Map<string, number>> {
  const iterations = new Map<string, number>();
  for (const op of ops) iterations.set(op.name, await calibrate(op, sampleMs)); // also the warm-up
  const times = new Map<string, number[]>(ops.map((op) => [op.name, []]));
  for (let sample = 0; sample < samples; sample++) {
    const order = sample % 2 === 0 ? ops : [...ops].reverse();
    for (const op of order) times.get(op.name)!.push(await loop(op, iterations.get(op.name)!));
  }
  void sink;
  return new Map([...times].map(([name, values]) => [name, median(values)]));
}
