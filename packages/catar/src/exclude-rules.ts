import { fnmatch } from './fnmatch.js';

// casync camatch.c semantics for `.caexclude` files (EXCLUDE_FILE): one pattern per line,
// `#` comments and blank lines ignored, `!` negates, a pattern holding a `/` is anchored to
// the directory of the file, a trailing `/` matches directories only. Unanchored rules
// apply in every directory below; a negative match wins over a positive one.

type RuleType = 'positive' | 'negative' | 'inner';

/** One node of a parsed pattern: a name component, with children for the next component. */
export interface ExcludeRule {
  readonly type: RuleType;
  readonly name: string;
  readonly anchored: boolean;
  readonly directoryOnly: boolean;
  readonly children: readonly ExcludeRule[];
}

/** The rules in force in one directory. */
export type ExcludeRules = readonly ExcludeRule[];

/** Why a `.caexclude` line was refused. */
export class ExcludeSyntaxError extends Error {}

/** Parses the text of a `.caexclude` file. @throws ExcludeSyntaxError on a bad line. */
export function parseExcludeFile(text: string): ExcludeRule[] {
  const rules: ExcludeRule[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    rules.push(parseLine(line));
  }
  return rules;
}

function parseLine(line: string): ExcludeRule {
  let p = line;
  let type: RuleType = 'positive';
  if (p.startsWith('!')) {
    type = 'negative';
    p = p.slice(1);
  }
  let anchored = p.includes('/');
  p = p.replace(/^\/+/, '');
  const components: { name: string; directoryOnly: boolean; anchored: boolean }[] = [];
  while (true) {
    const slash = p.indexOf('/');
    const name = slash === -1 ? p : p.slice(0, slash);
    if (name === '' || name === '.' || name === '..') {
      throw new ExcludeSyntaxError(`'${line}': empty, '.' and '..' path components are not allowed`);
    }
    p = slash === -1 ? '' : p.slice(slash);
    const directoryOnly = p.startsWith('/');
    p = p.replace(/^\/+/, '');
    components.push({ name, directoryOnly, anchored });
    if (p === '') break;
    anchored = true;
  }
  // Build from the last component up: every component but the last is an inner node.
  let node: ExcludeRule | undefined;
  for (let i = components.length - 1; i >= 0; i--) {
    const c = components[i] as (typeof components)[number];
    node = {
      type: node === undefined ? type : 'inner',
      name: c.name,
      anchored: c.anchored,
      directoryOnly: c.directoryOnly,
      children: node === undefined ? [] : [node],
    };
  }
  return node as ExcludeRule;
}

/** The verdict for one directory entry, and the rules that apply inside it. */
export interface ExcludeVerdict {
  excluded: boolean;
  /** Rules for the entry's own listing (only for directories). */
  inner: ExcludeRule[];
}

/** casync ca_match_test: whether `name` is excluded, and the rules carried into it. */
export function testExclude(rules: ExcludeRules, name: string, isDirectory: boolean): ExcludeVerdict {
  let positive = false;
  let negative = false;
  const inner: ExcludeRule[] = [];
  for (const rule of rules) {
    if (!rule.anchored && isDirectory) inner.push(rule);
    if (rule.directoryOnly && !isDirectory) continue;
    if (!fnmatch(rule.name, name)) continue;
    if (rule.type === 'negative') negative = true;
    else if (rule.type === 'positive') positive = true;
    else if (isDirectory) inner.push(...rule.children);
  }
  return { excluded: negative ? false : positive, inner };
}
