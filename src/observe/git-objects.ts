// Reads git objects straight from a repository's files: loose objects (zlib) and packs (index v2,
// pack v2/v3, offset and ref deltas). Every object read is checked against its id, as git does.
// Anything this reader does not understand throws CannotTell, and the caller asks git instead: it
// never answers "missing" itself (an object may live in an alternate, a promisor remote, a replaced
// object…), only "here it is" or "cannot tell".
import { createHash } from "node:crypto";
import { closeSync, constants, openSync, readdirSync, readSync } from "node:fs";
import { join } from "node:path";
import { inflateSync } from "node:zlib";

/** The fast path cannot answer this; git must. */
export class CannotTell extends Error {}

export function cannot(why: string): never {
  throw new CannotTell(why);
}

export type ObjectType = "commit" | "tree" | "blob" | "tag";

export interface GitObject {
  type: ObjectType;
  body: Buffer;
}

const PACK_TYPES: Record<number, ObjectType> = { 1: "commit", 2: "tree", 3: "blob", 4: "tag" };
const OFS_DELTA = 6;
const REF_DELTA = 7;
const MAX_DELTA_CHAIN = 10_000;

export const SHA = /^[0-9a-f]{40}$/;

function hashOf(type: ObjectType, body: Buffer): string {
  return createHash("sha1").update(`${type} ${body.length}\0`).update(body).digest("hex");
}

function verified(sha: string, o: GitObject): GitObject {
  if (hashOf(o.type, o.body) !== sha) cannot(`object ${sha} does not match its id`);
  return o;
}

let scratch = Buffer.allocUnsafe(64 * 1024);

/**
 * Reads a whole file into the shared scratch buffer with open, read and close alone (the fewest
 * system calls) and returns its length; undefined when it does not exist. With `noFollow`, a
 * symbolic link is an error (ELOOP), and so is a directory (EISDIR). The bytes are valid until the
 * next read.
 */
function readScratch(path: string, noFollow: boolean): number | undefined {
  let fd: number;
  try {
    fd = openSync(path, noFollow ? constants.O_RDONLY | constants.O_NOFOLLOW : constants.O_RDONLY);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return undefined;
    throw e;
  }
  try {
    let got = 0;
    for (;;) {
      if (got === scratch.length) {
        const bigger = Buffer.allocUnsafe(scratch.length * 2);
        scratch.copy(bigger);
        scratch = bigger;
      }
      const want = scratch.length - got;
      const n = readSync(fd, scratch, got, want, null);
      got += n;
      // A read of a regular file returns less than asked only at its end: no extra read to see EOF.
      if (n < want) return got;
    }
  } finally {
    closeSync(fd);
  }
}

/** A whole file as bytes of its own; undefined when it does not exist (see readScratch). */
function readWhole(path: string, noFollow = false): Buffer | undefined {
  const n = readScratch(path, noFollow);
  return n === undefined ? undefined : Buffer.from(scratch.subarray(0, n));
}

/** A whole file as text; undefined when it does not exist (see readScratch). */
export function readText(path: string, encoding: "utf8" | "latin1", noFollow = false): string | undefined {
  const n = readScratch(path, noFollow);
  return n === undefined ? undefined : scratch.toString(encoding, 0, n);
}

function readLoose(objectsDir: string, sha: string): GitObject | undefined {
  const n = readScratch(`${objectsDir}/${sha.slice(0, 2)}/${sha.slice(2)}`, false);
  if (n === undefined) return undefined;
  const data = inflateSync(scratch.subarray(0, n));
  const nul = data.indexOf(0);
  const m = /^(commit|tree|blob|tag) (\d+)$/.exec(data.subarray(0, nul).toString("latin1"));
  if (!m || Number(m[2]) !== data.length - nul - 1) cannot(`loose object ${sha} has an unexpected header`);
  return { type: m[1] as ObjectType, body: data.subarray(nul + 1) };
}

/** A pack index (version 2) and its pack file, read on demand. */
class Pack {
  private idx?: Buffer;
  private count = 0;

  constructor(private readonly idxPath: string) {}

  private index(): Buffer {
    if (this.idx) return this.idx;
    const idx = readWhole(this.idxPath) ?? cannot(`${this.idxPath} vanished`);
    if (idx.readUInt32BE(0) !== 0xff744f63 || idx.readUInt32BE(4) !== 2)
      cannot(`${this.idxPath}: not a version 2 pack index`);
    this.count = idx.readUInt32BE(8 + 255 * 4);
    this.idx = idx;
    return idx;
  }

  /** The offset of `sha` in the pack, or undefined when this pack does not hold it. */
  offsetOf(sha: string): number | undefined {
    const idx = this.index();
    const want = Buffer.from(sha, "hex");
    const first = want[0];
    let lo = first === 0 ? 0 : idx.readUInt32BE(8 + (first - 1) * 4);
    let hi = idx.readUInt32BE(8 + first * 4);
    const names = 8 + 256 * 4;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const c = idx.compare(want, 0, 20, names + mid * 20, names + mid * 20 + 20);
      if (c === 0) {
        const offsets = names + this.count * 24; // after the names and the CRCs
        const small = idx.readUInt32BE(offsets + mid * 4);
        if (!(small & 0x80000000)) return small;
        const large = offsets + this.count * 4 + (small & 0x7fffffff) * 8;
        return Number(idx.readBigUInt64BE(large));
      }
      if (c < 0) lo = mid + 1;
      else hi = mid;
    }
    return undefined;
  }

  get packPath(): string {
    return this.idxPath.replace(/\.idx$/, ".pack");
  }
}

/** Reads `length` bytes at `position` (fewer at the end of the file). */
function readAt(fd: number, position: number, length: number): Buffer {
  const buf = Buffer.allocUnsafe(length);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buf, got, length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return buf.subarray(0, got);
}

/** Inflates the zlib stream at `position` whose result is `size` bytes long. */
function inflateAt(fd: number, position: number, size: number): Buffer {
  // zlib adds a few bytes per 16 KiB block and a small header; a stored stream is at most that much
  // larger than its data. Start with a guess and grow it only if the stream turns out longer.
  for (let want = size + 256; ; want *= 2) {
    const chunk = readAt(fd, position, want);
    try {
      const out = inflateSync(chunk);
      if (out.length !== size) cannot("a packed object inflates to an unexpected size");
      return out;
    } catch (e) {
      if (e instanceof CannotTell || (e as NodeJS.ErrnoException).code !== "Z_BUF_ERROR" || chunk.length < want)
        throw e;
    }
  }
}

interface EntryHeader {
  kind: number;
  size: number;
  /** where the compressed data starts */
  data: number;
  /** OFS_DELTA: offset of the base; REF_DELTA: id of the base */
  baseOffset?: number;
  baseSha?: string;
}

function entryHeader(fd: number, offset: number): EntryHeader {
  const head = readAt(fd, offset, 64);
  let i = 0;
  let c = head[i++];
  const kind = (c >> 4) & 7;
  let size = c & 15;
  let shift = 4;
  while (c & 0x80) {
    c = head[i++];
    size += (c & 0x7f) * 2 ** shift;
    shift += 7;
  }
  if (kind === OFS_DELTA) {
    c = head[i++];
    let back = c & 0x7f;
    while (c & 0x80) {
      c = head[i++];
      back = (back + 1) * 128 + (c & 0x7f);
    }
    return { kind, size, data: offset + i, baseOffset: offset - back };
  }
  if (kind === REF_DELTA)
    return { kind, size, data: offset + i + 20, baseSha: head.subarray(i, i + 20).toString("hex") };
  if (!PACK_TYPES[kind]) cannot(`unknown pack entry type ${kind}`);
  return { kind, size, data: offset + i };
}

function deltaVarint(delta: Buffer, at: { i: number }): number {
  let n = 0;
  let shift = 0;
  let c: number;
  do {
    c = delta[at.i++];
    n += (c & 0x7f) * 2 ** shift;
    shift += 7;
  } while (c & 0x80);
  return n;
}

function applyDelta(base: Buffer, delta: Buffer): Buffer {
  const at = { i: 0 };
  if (deltaVarint(delta, at) !== base.length) cannot("a delta does not fit its base");
  const out = Buffer.allocUnsafe(deltaVarint(delta, at));
  let o = 0;
  while (at.i < delta.length) {
    const op = delta[at.i++];
    if (op & 0x80) {
      let off = 0;
      let len = 0;
      for (let b = 0; b < 4; b++) if (op & (1 << b)) off += delta[at.i++] * 2 ** (8 * b);
      for (let b = 0; b < 3; b++) if (op & (0x10 << b)) len += delta[at.i++] * 2 ** (8 * b);
      if (len === 0) len = 0x10000;
      if (off + len > base.length || o + len > out.length) cannot("a delta copies outside its base");
      base.copy(out, o, off, off + len);
      o += len;
    } else if (op) {
      if (o + op > out.length || at.i + op > delta.length) cannot("a delta inserts past its end");
      delta.copy(out, o, at.i, at.i + op);
      at.i += op;
      o += op;
    } else cannot("a delta has a reserved opcode");
  }
  if (o !== out.length) cannot("a delta is shorter than it says");
  return out;
}

/** The objects of one repository (its objects/ directory). */
export class ObjectStore {
  private packs?: Pack[];

  constructor(private readonly objectsDir: string) {}

  private allPacks(): Pack[] {
    if (!this.packs) {
      const dir = join(this.objectsDir, "pack");
      let names: string[] = [];
      try {
        names = readdirSync(dir);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw e;
      }
      this.packs = names
        .filter((n) => n.endsWith(".idx"))
        .sort()
        .map((n) => new Pack(join(dir, n)));
    }
    return this.packs;
  }

  /** The object `sha`, checked against its id; throws CannotTell when it cannot be found or read. */
  read(sha: string): GitObject {
    if (!SHA.test(sha)) cannot(`not an object id: ${sha}`);
    const loose = readLoose(this.objectsDir, sha);
    if (loose) return verified(sha, loose);
    for (const pack of this.allPacks()) {
      const offset = pack.offsetOf(sha);
      if (offset !== undefined) return verified(sha, this.fromPack(pack, offset));
    }
    return cannot(`object ${sha} is neither loose nor in a pack here`);
  }

  private fromPack(pack: Pack, offset: number): GitObject {
    const fd = openSync(pack.packPath, "r");
    try {
      const chain: EntryHeader[] = [];
      let h = entryHeader(fd, offset);
      let base: GitObject | undefined;
      while (h.kind === OFS_DELTA || h.kind === REF_DELTA) {
        if (chain.length >= MAX_DELTA_CHAIN) cannot("delta chain too long");
        chain.push(h);
        if (h.kind === REF_DELTA) {
          base = this.read(h.baseSha!);
          break;
        }
        h = entryHeader(fd, h.baseOffset!);
      }
      let obj = base ?? { type: PACK_TYPES[h.kind], body: inflateAt(fd, h.data, h.size) };
      for (let i = chain.length - 1; i >= 0; i--)
        obj = { type: obj.type, body: applyDelta(obj.body, inflateAt(fd, chain[i].data, chain[i].size)) };
      return obj;
    } finally {
      closeSync(fd);
    }
  }
}

/** The tree id of a commit object. */
export function commitTree(commit: GitObject): string {
  const m = /^tree ([0-9a-f]{40})\n/.exec(commit.body.toString("latin1", 0, 46));
  if (commit.type !== "commit" || !m) cannot("not a commit with a tree");
  return m[1];
}

/** The object a tag object points at, and that object's type. */
export function tagTarget(tag: GitObject): { sha: string; type: string } {
  const m = /^object ([0-9a-f]{40})\ntype (\w+)\n/.exec(tag.body.toString("latin1", 0, 80));
  if (tag.type !== "tag" || !m) cannot("not a tag object");
  return { sha: m[1], type: m[2] };
}

export interface TreeEntry {
  mode: string;
  name: Buffer;
  sha: string;
}

export function treeEntries(tree: GitObject): TreeEntry[] {
  if (tree.type !== "tree") cannot("not a tree");
  const out: TreeEntry[] = [];
  const b = tree.body;
  for (let i = 0; i < b.length;) {
    const space = b.indexOf(0x20, i);
    const nul = b.indexOf(0, space);
    if (space < 0 || nul < 0 || nul + 21 > b.length) cannot("malformed tree");
    out.push({
      mode: b.toString("latin1", i, space),
      name: b.subarray(space + 1, nul),
      sha: b.toString("hex", nul + 1, nul + 21),
    });
    i = nul + 21;
  }
  return out;
}
