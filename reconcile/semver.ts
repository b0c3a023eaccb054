// Release versions of harness tags: parse "v1.2.3" / "1.2.3-rc.1" and order them as semver does.

export interface Version {
  major: number;
  minor: number;
  patch: number;
  pre: string[];
}

const SEMVER = /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;

/** The version a tag names, or undefined when it is not a release tag. */
export function parseVersion(tag: string): Version | undefined {
  const m = SEMVER.exec(tag);
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), pre: m[4] ? m[4].split(".") : [] };
}

function comparePre(a: string[], b: string[]): number {
  // A release is above its pre-releases; identifiers compare numerically when both are numbers.
  if (!a.length || !b.length) return b.length - a.length;
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const [x, y] = [a[i], b[i]];
    const [nx, ny] = [/^\d+$/.test(x), /^\d+$/.test(y)];
    if (x === y) continue;
    if (nx && ny) return Number(x) - Number(y);
    if (nx !== ny) return nx ? -1 : 1;
    // Stryker disable next-line EqualityOperator: x !== y here (equal ones were skipped), so <= is the same test
    return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

/** Negative when a < b, positive when a > b, 0 when equal (build metadata ignored). */
export function compareVersions(a: Version, b: Version): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch || comparePre(a.pre, b.pre);
}

/** Compares two tags; undefined when either is not a release tag. */
export function compareTags(a: string, b: string): number | undefined {
  const [va, vb] = [parseVersion(a), parseVersion(b)];
  return va && vb ? compareVersions(va, vb) : undefined;
}

/** The highest release tag of `tags`; pre-releases only when `pre`. */
export function newestTag(tags: Iterable<string>, pre = false): string | undefined {
  let best: { tag: string; v: Version } | undefined;
  for (const tag of tags) {
    const v = parseVersion(tag);
    if (!v || (v.pre.length && !pre)) continue;
    if (!best || compareVersions(v, best.v) > 0) best = { tag, v };
  }
  return best?.tag;
}
