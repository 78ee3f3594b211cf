import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';

// SECURITY.md names one reporting channel, GitHub's private vulnerability reporting, and no
// e-mail address (none exists); the acknowledgement time is five working days.

const policy = readFileSync(new URL('../../SECURITY.md', import.meta.url), 'utf8');

it('SECURITY.md: private vulnerability reporting, no e-mail address, acknowledgement within five working days', () => {
  expect(policy).toContain('private vulnerability reporting');
  expect(policy).toContain('**Security** tab → **Report a\nvulnerability**');
  expect(policy).toContain('(../../security/advisories/new)');
  expect(policy).not.toMatch(/[\w.+-]+@[\w-]+\.[\w.]+|mailto:/);
  expect(policy).toMatch(/acknowledge a report within five working days/);
});
