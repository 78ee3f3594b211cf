import { existsSync } from 'node:fs';
import { expect, it } from 'vitest';
import { fromRoot, readRepoFile } from '../helpers/paths.js';

// SECURITY.md sends a reporter somewhere: every place it points to must be there. Relative links
// are resolved as GitHub resolves them, from the file's page on the default branch; repository
// paths it names in code spans must exist.

const policy = readRepoFile('SECURITY.md');
const links = [...policy.matchAll(/\]\(([^)\s]+)\)/g)].map((match) => match[1]!);

/** Where a relative link of SECURITY.md leads on GitHub, for a repository at github.com/owner/repo. */
const page = new URL('https://github.com/owner/repo/blob/main/SECURITY.md');
const onGitHub = (link: string): string => {
  const url = new URL(link, page);
  return url.pathname + url.hash;
};

/** The anchor GitHub gives a Markdown heading: lower case, punctuation dropped, spaces as hyphens. */
const anchors = (markdown: string): string[] =>
  [...markdown.matchAll(/^#{1,6} (.+)$/gm)].map((match) => match[1]!.trim().toLowerCase().replace(/[^\p{L}\p{N}\s-]/gu, '').replace(/\s/g, '-'));

it("SECURITY.md: its reporting channel is the repository's private vulnerability report form, and there is no other", () => {
  expect(links.map(onGitHub)).toContain('/owner/repo/security/advisories/new');
  // No address to write to besides: a mailto link or an e-mail address would be a second channel.
  expect(policy).not.toMatch(/[\w.+-]+@[\w-]+\.[\w.]+|mailto:/);
});

it('SECURITY.md: every file and heading it links to, and every repository path it names, exists', () => {
  const inRepository = links.filter((link) => onGitHub(link).startsWith('/owner/repo/blob/main/'));
  expect(inRepository.length).toBeGreaterThan(0);
  for (const link of inRepository) {
    const [file = '', anchor] = onGitHub(link).slice('/owner/repo/blob/main/'.length).split('#');
    expect(file, link).not.toBe('');
    expect(existsSync(fromRoot(file)), link).toBe(true);
    if (anchor !== undefined) expect(anchors(readRepoFile(file)), link).toContain(anchor);
  }
  // Every other link leaves the files for one of the repository's own GitHub pages.
  expect(links.filter((link) => !inRepository.includes(link)).map(onGitHub)).toEqual(['/owner/repo/security/advisories/new']);
  const paths = [...policy.matchAll(/`((?:test|src|docs|examples|bench)\/[^`\s]*)`/g)].map((match) => match[1]!);
  expect(paths.length).toBeGreaterThan(0);
  for (const path of paths) expect(existsSync(fromRoot(path)), path).toBe(true);
});
