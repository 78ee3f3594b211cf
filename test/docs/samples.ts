import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// The code blocks of the documentation site, taken out of its Markdown pages to be compiled and run
// as users would copy them.

export const root = fileURLToPath(new URL('../../', import.meta.url));
const docsDir = path.join(root, 'docs');
/** Inside the package (so `aicommerce-webhooks` resolves to the built package, as for a user), outside every tsconfig. */
export const samplesDir = path.join(docsDir, '.samples');

export interface Block {
  /** The page, relative to docs/ (`queued.md`). */
  readonly page: string;
  /** 1-based line of the opening fence in that page. */
  readonly line: number;
  readonly lang: string;
  readonly code: string;
}

/** The site's own pages: docs/*.md and docs/<dir>/*.md, not the generated API reference. */
export function pages(): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!entry.name.startsWith('.') && entry.name !== 'api' && entry.name !== 'public' && entry.name !== 'typedoc') walk(full);
      } else if (entry.name.endsWith('.md')) found.push(path.relative(docsDir, full));
    }
  };
  walk(docsDir);
  return found.sort();
}

/** Every fenced block of a page, indented ones (in a list item) included, with the indent removed. */
export function blocksOf(page: string): Block[] {
  const lines = readFileSync(path.join(docsDir, page), 'utf8').split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)```(\w*)/.exec(lines[i]!);
    if (open === null) continue;
    const [, indent = '', lang = ''] = open;
    const body: string[] = [];
    let j = i + 1;
    while (j < lines.length && lines[j]!.trimEnd() !== `${indent}\`\`\``) body.push(lines[j++]!.slice(indent.length));
    blocks.push({ page, line: i + 1, lang, code: `${body.join('\n')}\n` });
    i = j;
  }
  return blocks;
}

export const allBlocks = (): Block[] => pages().flatMap(blocksOf);

export type Runtime = 'node' | 'bun' | 'deno';

/** Bun's and Deno's globals are typed in projects of their own, as in examples/bun and examples/deno. */
export const runtimeOf = (block: Block): Runtime => (/\bBun\./.test(block.code) ? 'bun' : /\bDeno\./.test(block.code) ? 'deno' : 'node');

export interface WrittenBlock extends Block {
  readonly file: string;
}

/**
 * Writes each TypeScript block as a file of its page's folder: under the name its first line gives
 * (`// receiver.ts: …`), so that blocks importing each other (`./webhooks.js`) find each other, or
 * as `block-<line>.ts`. A name a page uses twice goes to a folder of its own.
 */
export function writeTypeScriptBlocks(): WrittenBlock[] {
  rmSync(samplesDir, { recursive: true, force: true });
  const written: WrittenBlock[] = [];
  const taken = new Set<string>();
  for (const block of allBlocks().filter((b) => b.lang === 'ts')) {
    const named = /^\/\/ ([\w./-]+\.ts)\b/.exec(block.code)?.[1];
    const pageDir = path.join(samplesDir, block.page.replace(/\.md$/, ''));
    let file = path.join(pageDir, named ?? `block-${block.line}.ts`);
    if (taken.has(file)) file = path.join(pageDir, `line-${block.line}`, named ?? 'block.ts');
    taken.add(file);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, block.code);
    written.push({ ...block, file });
  }
  return written;
}

/** A tsconfig for one runtime's blocks: strict, as a user's project would be, against the built package. */
export function writeTsconfig(runtime: Runtime, files: readonly string[]): string {
  const file = path.join(samplesDir, `tsconfig.${runtime}.json`);
  const types = { node: ['node'], bun: ['bun'], deno: ['node', 'deno'] }[runtime];
  const compilerOptions = {
    target: 'es2022',
    lib: ['es2023'],
    module: 'nodenext',
    moduleResolution: 'nodenext',
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    // NestJS projects have it: its decorators are the legacy kind.
    experimentalDecorators: true,
    types,
  };
  writeFileSync(file, JSON.stringify({ compilerOptions, files: files.map((f) => path.relative(samplesDir, f)) }, null, 2));
  return file;
}
