// The part of autocannon's API the bench uses (the package ships no types). Members it shares
// with test/helpers/hostile-autocannon.d.ts have the same types there, so the two merge.
declare module 'autocannon' {
  export interface Options {
    url: string;
    method?: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    connections?: number;
    duration?: number;
    amount?: number;
  }
  export interface Result {
    requests: { total: number; average: number; sent: number };
    latency: { p50: number; p99: number; average: number; max: number };
    duration: number;
    errors: number;
    timeouts: number;
    non2xx: number;
    '2xx': number;
  }
  function autocannon(options: Options): Promise<Result>;
  export default autocannon;
}
