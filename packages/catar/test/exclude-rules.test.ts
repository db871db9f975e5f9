import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseExcludeFile, testExclude } from '../src/exclude-rules.js';
import { fnmatch } from '../src/fnmatch.js';

describe('fnmatch (FNM_PERIOD, no FNM_PATHNAME)', () => {
  it.each([
    ['*.log', 'x.log', true],
    ['*.log', '.x.log', false],
    ['.*', '.hidden', true],
    ['?x', 'ax', true],
    ['?x', '.x', false],
    ['[a-c]?', 'bz', true],
    ['[!a-c]?', 'bz', false],
    ['[^a-c]?', 'dz', true],
    ['[.]x', '.x', false],
    ['\\*', '*', true],
    ['\\*', 'a', false],
    ['a*b*c', 'aXXbYYc', true],
    ['a*b*c', 'aXXbYY', false],
    ['[', '[', true],
    ['[]]', ']', true],
    ['*', '', true],
  ])('%s vs %s → %s', (pattern, name, expected) => {
    expect(fnmatch(pattern, name)).toBe(expected);
  });

  it('a pattern without wildcards matches only itself', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-z0-9._-]{1,12}$/),
        fc.stringMatching(/^[a-z0-9._-]{1,12}$/),
        (a, b) => {
          expect(fnmatch(a, b)).toBe(a === b);
        },
      ),
    );
  });
});

describe('.caexclude rules (casync camatch.c)', () => {
  const rules = parseExcludeFile('*.log\n!keep.log\n# comment\n\n/c/q.txt\nbuild/\n');

  it('ignores comments and blank lines, negation wins', () => {
    expect(rules).toHaveLength(4);
    expect(testExclude(rules, 'x.log', false).excluded).toBe(true);
    expect(testExclude(rules, 'keep.log', false).excluded).toBe(false);
    expect(testExclude(rules, 'y.txt', false).excluded).toBe(false);
  });

  it('carries unanchored rules into directories, anchored ones only one level', () => {
    const inC = testExclude(rules, 'c', true);
    expect(inC.excluded).toBe(false);
    expect(testExclude(inC.inner, 'q.txt', false).excluded).toBe(true);
    expect(testExclude(inC.inner, 'z.log', false).excluded).toBe(true);
    const inD = testExclude(rules, 'd', true);
    expect(testExclude(inD.inner, 'q.txt', false).excluded).toBe(false);
  });

  it('a trailing slash matches directories only', () => {
    const dirOnly = parseExcludeFile('tmp/\n');
    expect(testExclude(dirOnly, 'tmp', true).excluded).toBe(true);
    expect(testExclude(dirOnly, 'tmp', false).excluded).toBe(false);
  });

  it('refuses empty, . and .. components', () => {
    for (const line of ['a/./b', '../x', '!.', 'x/..']) {
      expect(() => parseExcludeFile(`${line}\n`)).toThrow(line);
    }
  });
});
