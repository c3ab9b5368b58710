/**
 * The option a mistyped one was probably meant to be: one that it starts with or that starts with
 * it (--epsilon → --eps, --thread → --threads), else one within a small edit distance (--lmit →
 * --limit). Undefined when nothing is close enough to be worth saying.
 */
export function closestOption(flag: string, options: readonly string[]): string | undefined {
  const name = flag.replace(/^--?/, '').split('=')[0]!.toLowerCase();
  if (name.length < 2) return undefined;
  const scored = options
    .map((option) => {
      const o = option.replace(/^--?/, '');
      // A prefix either way, of at least 3 letters: the same word, abbreviated or extended.
      const prefix = Math.min(o.length, name.length) >= 3 && (name.startsWith(o) || o.startsWith(name));
      const d = distance(name, o);
      return { option, score: prefix ? 0 : d <= Math.max(1, Math.floor(o.length / 3)) ? d : Infinity, d };
    })
    .filter((s) => s.score < Infinity)
    .sort((a, b) => a.score - b.score || a.d - b.d);
  return scored[0]?.option;
}

/** Optimal-string-alignment (Damerau–Levenshtein) distance: a swap of two letters counts once. */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}
