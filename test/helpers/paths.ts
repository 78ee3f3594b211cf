import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root directory (with a trailing separator). */
export const root = fileURLToPath(new URL('../../', import.meta.url));

/** A path from the repository's root. */
export const fromRoot = (relative: string): string => join(root, relative);

/** A file of the repository, as text. */
export const readRepoFile = (relative: string): string => readFileSync(fromRoot(relative), 'utf8');
