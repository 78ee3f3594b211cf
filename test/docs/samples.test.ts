import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { allBlocks, root, runtimeOf, samplesDir, writeTsconfig, writeTypeScriptBlocks, type Runtime, type WrittenBlock } from './samples.js';

// Every TypeScript block of the documentation site, type-checked with the project's TypeScript
// against the built package (`npm run build` first, as `npm test` does), as a user's strict project
// would check it after copying the block.

const tsc = path.join(root, 'node_modules', '.bin', 'tsc');
const run = promisify(execFile);

/** tsc's `file(line,col): error …` lines, pointed back at the page and line of the block. */
function onThePage(output: string, blocks: readonly WrittenBlock[]): string {
  return output
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => {
      const at = /^(.+?\.ts)\((\d+),(\d+)\): (.*)$/.exec(line);
      const block = at && blocks.find((b) => path.resolve(samplesDir, at[1]!) === b.file);
      return block ? `docs/${block.page}:${block.line + Number(at[2])} — ${at[4]}` : line;
    })
    .join('\n');
}

describe('the TypeScript samples of the site', () => {
  let blocks: WrittenBlock[];
  beforeAll(() => {
    blocks = writeTypeScriptBlocks();
  });

  it('are found on the pages that have them (guards against a change that would check nothing)', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(30);
    const pagesWithSamples = new Set(blocks.map((b) => b.page));
    for (const page of ['getting-started.md', 'receiver.md', 'frameworks.md', 'queued.md', 'testing.md', 'retries.md']) {
      expect(pagesWithSamples).toContain(page);
    }
    expect(blocks.filter((b) => runtimeOf(b) === 'bun')).toHaveLength(1);
    expect(blocks.filter((b) => runtimeOf(b) === 'deno')).toHaveLength(1);
  });

  for (const runtime of ['node', 'bun', 'deno'] satisfies Runtime[]) {
    it(`compile with tsc --strict against the built package (${runtime})`, async () => {
      const mine = blocks.filter((b) => runtimeOf(b) === runtime);
      const config = writeTsconfig(runtime, mine.map((b) => b.file));
      const result = await run(tsc, ['-p', config, '--pretty', 'false'], { cwd: samplesDir }).then(
        () => '',
        (error: { stdout?: string; stderr?: string; message: string }) => `${error.stdout ?? ''}${error.stderr ?? ''}` || error.message,
      );
      expect(onThePage(result, mine)).toBe('');
    });
  }
});

describe('every sample that starts a server', () => {
  it('listens on 127.0.0.1 only', () => {
    const servers = allBlocks().filter((b) => ['ts', 'js'].includes(b.lang) && /\.listen\(|\bserve\(|\.serve\(/.test(b.code));
    expect(servers.length).toBeGreaterThanOrEqual(10);
    const open = servers.filter((b) => !b.code.includes("'127.0.0.1'"));
    expect(open.map((b) => `docs/${b.page}:${b.line}`)).toEqual([]);
  });
});
