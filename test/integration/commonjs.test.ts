import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const fixture = fileURLToPath(new URL('../fixtures/require-from-commonjs.cjs', import.meta.url));

describe('the built package', () => {
  it('has been built (npm test builds before running the suite)', () => {
    expect(existsSync(fileURLToPath(new URL('../../dist/index.js', import.meta.url)))).toBe(true);
  });

  it('can be require()d from a CommonJS app on Node 20.19+', async () => {
    const { stdout, stderr } = await run(process.execPath, [fixture]);
    expect(JSON.parse(stdout)).toEqual({ ok: true, outcome: 'handled', seen: ['prod_new'], types: 'function' });
    expect(stderr).toBe('');
  });
});
