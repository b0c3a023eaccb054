// Release tags in semver order (v1.2.3, 1.2.3-rc.1): which tags are releases and which is newer.
export interface Version {
  tag: string;
  major: number;
  minor: number;
  patch: number;
  pre: string[];
}

const SEMVER = /^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;

/** The version a tag names, or undefined when it is not a semver release tag. */
export function parseVersion(tag: string): Version | undefined {
  const m = SEMVER.exec(tag);
  if (!m) return undefined;
  return { tag, major: Number(m[1]), minor: Number(m[2]), patch: Number(m[3]), pre: m[4] ? m[4].split(".") : [] };
}

function comparePre(a: string[], b: string[]): number {
  // A version without a pre-release is newer than any of its pre-releases (semver 11.3).
  if (!a.length || !b.length) return b.length - a.length;
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] === undefined || b[i] === undefined) return a[i] === undefined ? -1 : 1;
    const [na, nb] = [/^\d+$/.test(a[i]), /^\d+$/.test(b[i])];
    if (na && nb && Number(a[i]) !== Number(b[i])) return Number(a[i]) - Number(b[i]);
    if (na !== nb) return na ? -1 : 1;
    if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
  }
  return 0;
}

/** Negative when a is older than b, positive when newer, 0 when they are the same version. */
export function compareVersions(a: Version, b: Version): number {
  return a.major - b.major || a.minor - b.minor || a.patch - b.patch || comparePre(a.pre, b.pre);
}

/** The highest release among `tags` (pre-releases only when `pre`), or undefined. */
export function newestRelease(tags: Iterable<string>, pre = false): Version | undefined {
  let best: Version | undefined;
  for (const tag of tags) {
    const v = parseVersion(tag);
    if (!v || (v.pre.length && !pre)) continue;
    if (!best || compareVersions(v, best) > 0) best = v;
  }
  return best;
}
