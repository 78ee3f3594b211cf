import { execFileSync } from 'node:child_process';
import { existsSync, symlinkSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// `--baseline <git ref>`: the same bench servers, built from another commit, run in the same rounds
// as today's, so "no slower than before" is a ratio from one run rather than two runs on a machine
// whose speed drifts. The ref is checked out once into .bench-baseline/<commit> (a git worktree
// sharing this checkout's node_modules) and built there: its package and its bench servers.

const repository = fileURLToPath(new URL('../../..', import.meta.url)); // bench/.build/bench → the repository

/** The compiled bench directory of `ref` (its `servers/` and `workers/`), built on first use. */
export function prepareBaseline(ref: string): { commit: string; benchDir: URL } {
  const git = (...args: string[]): string => execFileSync('git', args, { cwd: repository, encoding: 'utf8' }).trim();
  const commit = git('rev-parse', '--verify', `${ref}^{commit}`);
  const dir = `${repository}.bench-baseline/${commit}`;
  const benchDir = new URL(`file://${dir}/bench/.build/bench/`);
  if (existsSync(fileURLToPath(new URL('servers/ours-node.js', benchDir)))) return { commit, benchDir };
  if (!existsSync(dir)) git('worktree', 'add', '--detach', dir, commit);
  if (!existsSync(`${dir}/node_modules`)) symlinkSync(`${repository}node_modules`, `${dir}/node_modules`, 'dir');
  const tsc = `${repository}node_modules/.bin/tsc`;
  execFileSync(tsc, ['-p', 'tsconfig.build.json'], { cwd: dir, stdio: 'inherit' });
  execFileSync(tsc, ['-p', 'bench/tsconfig.build.json'], { cwd: dir, stdio: 'inherit' });
  return { commit, benchDir };
}
