/**
 * POSIX fnmatch(3) with FNM_PERIOD and without FNM_PATHNAME, as casync's .caexclude matching
 * uses it on single names: `*`, `?`, bracket expressions (`[a-z]`, `[!x]`, `[^x]`) and `\`
 * escapes; a leading `.` in the name only matches a literal `.`.
 */
export function fnmatch(pattern: string, name: string): boolean {
  return matchAt(pattern, 0, name, 0);
}

function matchAt(p: string, pi: number, s: string, si: number): boolean {
  while (pi < p.length) {
    const c = p[pi] as string;
    if (c === '*') {
      // FNM_PERIOD: a wildcard never matches a leading period.
      if (si === 0 && s[0] === '.') return false;
      while (p[pi] === '*') pi++;
      if (pi === p.length) return true;
      for (let k = si; k <= s.length; k++) if (matchAt(p, pi, s, k)) return true;
      return false;
    }
    if (si >= s.length) return false;
    if (c === '?') {
      if (si === 0 && s[0] === '.') return false;
      pi++;
      si++;
      continue;
    }
    if (c === '[') {
      const r = matchBracket(p, pi, s[si] as string, si === 0);
      if (r === undefined) {
        // An unterminated bracket is an ordinary character.
        if (s[si] !== '[') return false;
        pi++;
        si++;
        continue;
      }
      if (!r.matched) return false;
      pi = r.next;
      si++;
      continue;
    }
    if (c === '\\' && pi + 1 < p.length) {
      if (p[pi + 1] !== s[si]) return false;
      pi += 2;
      si++;
      continue;
    }
    if (c !== s[si]) return false;
    pi++;
    si++;
  }
  return si === s.length;
}

function matchBracket(
  p: string,
  start: number,
  ch: string,
  leading: boolean,
): { matched: boolean; next: number } | undefined {
  let i = start + 1;
  let negate = false;
  if (p[i] === '!' || p[i] === '^') {
    negate = true;
    i++;
  }
  let matched = false;
  let first = true;
  while (i < p.length && (first || p[i] !== ']')) {
    first = false;
    let lo = p[i] as string;
    if (lo === '\\' && i + 1 < p.length) lo = p[++i] as string;
    i++;
    let hi = lo;
    if (p[i] === '-' && i + 1 < p.length && p[i + 1] !== ']') {
      hi = p[i + 1] as string;
      if (hi === '\\' && i + 2 < p.length) hi = p[++i + 1] as string;
      i += 2;
    }
    if (lo <= ch && ch <= hi) matched = true;
  }
  if (i >= p.length) return undefined;
  // FNM_PERIOD: not even a bracket expression matches a leading period.
  if (leading && ch === '.') return { matched: false, next: i + 1 };
  return { matched: negate ? !matched : matched, next: i + 1 };
}
