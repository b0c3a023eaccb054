// Git objects by random access, for the small reader (git-read.ts): a packed object is found
// through its .idx fan-out table and one slice of names (never the whole .idx), then inflated and
// its deltas applied; anything not understood throws Unsure, and git is asked instead.
import { closeSync, openSync, readSync } from "node:fs";
import { constants as zlib, inflateSync } from "node:zlib";

/** The reader cannot answer this; git must. */
export class Unsure extends Error {}

export function unsure(why: string): never {
  throw new Unsure(why);
}

function readAt(fd: number, position: number, length: number): Buffer {
  const buf = Buffer.allocUnsafe(length);
  let got = 0;
  for (let n = 1; got < length && n > 0; got += n) n = readSync(fd, buf, got, length - got, position + got);
  return buf.subarray(0, got);
}

export type Obj = { type: string; body: Buffer };
const PACK_TYPES = ["", "commit", "tree", "blob", "tag"];

/** One pack: its .idx read by random access (header and fan-out once, then one slice per lookup). */
export class Pack {
  private fanout?: Buffer;

  constructor(private readonly base: string) {}

  offsetOf(sha: string): number | undefined {
    const fd = openSync(`${this.base}.idx`, "r");
    try {
      this.fanout ??= readAt(fd, 0, 8 + 1024);
      const f = this.fanout;
      if (f.length < 1032 || f.readUInt32BE(0) !== 0xff744f63 || f.readUInt32BE(4) !== 2) unsure("pack index v2");
      const want = Buffer.from(sha, "hex");
      const lo = want[0] ? f.readUInt32BE(4 + want[0] * 4) : 0;
      const hi = f.readUInt32BE(8 + want[0] * 4);
      const count = f.readUInt32BE(8 + 255 * 4);
      const names = readAt(fd, 1032 + lo * 20, (hi - lo) * 20);
      for (let a = 0, b = hi - lo; a < b;) {
        const mid = (a + b) >>> 1;
        const c = want.compare(names, mid * 20, mid * 20 + 20);
        if (c > 0) a = mid + 1;
        else if (c < 0) b = mid;
        else {
          const small = readAt(fd, 1032 + count * 24 + (lo + mid) * 4, 4).readUInt32BE(0);
          if (!(small & 0x80000000)) return small;
          const at = 1032 + count * 28 + (small & 0x7fffffff) * 8;
          return Number(readAt(fd, at, 8).readBigUInt64BE(0));
        }
      }
      return undefined;
    } finally {
      closeSync(fd);
    }
  }

  /** The object at `offset`: its entry header, inflated data, deltas applied against their bases. */
  read(offset: number, byId: (sha: string) => Obj, depth = 0): Obj {
    if (depth > 50) unsure("delta chain too long");
    const fd = openSync(`${this.base}.pack`, "r");
    try {
      const head = readAt(fd, offset, 32);
      let [i, c] = [1, head[0]];
      const kind = (c >> 4) & 7;
      let size = c & 15;
      for (let shift = 4; c & 0x80; shift += 7) size += ((c = head[i++]) & 0x7f) * 2 ** shift;
      if (kind >= 1 && kind <= 4) return { type: PACK_TYPES[kind], body: inflateAt(fd, offset + i, size) };
      let base: Obj;
      if (kind === 6) {
        c = head[i++];
        let back = c & 0x7f;
        while (c & 0x80) back = (back + 1) * 128 + ((c = head[i++]) & 0x7f);
        base = this.read(offset - back, byId, depth + 1);
      } else if (kind === 7) {
        base = byId(head.toString("hex", i, i + 20));
        i += 20;
      } else return unsure(`pack entry type ${kind}`);
      return { type: base.type, body: applyDelta(base.body, inflateAt(fd, offset + i, size)) };
    } finally {
      closeSync(fd);
    }
  }
}

/** zlib's inflate; Z_SYNC_FLUSH: a stream cut short gives what it has (the caller reads more). */
export function inflated(data: Buffer, what: string, finishFlush = zlib.Z_FINISH): Buffer {
  try {
    return inflateSync(data, { finishFlush });
  } catch {
    return unsure(`${what} does not inflate`);
  }
}

/** Inflates the zlib stream at `position` that holds `size` bytes, reading only a little past it. */
function inflateAt(fd: number, position: number, size: number): Buffer {
  for (let want = size + 64; ; want *= 2) {
    const chunk = readAt(fd, position, want);
    const out = inflated(chunk, "a packed object", zlib.Z_SYNC_FLUSH);
    if (out.length === size) return out;
    if (out.length > size || chunk.length < want) unsure("a packed object has an unexpected size");
  }
}

function applyDelta(base: Buffer, delta: Buffer): Buffer {
  let i = 0;
  const varint = (): number => {
    let n = 0;
    for (let shift = 0, c = 0x80; c & 0x80; shift += 7) n += ((c = delta[i++]) & 0x7f) * 2 ** shift;
    return n;
  };
  if (varint() !== base.length) unsure("a delta does not fit its base");
  const out = Buffer.allocUnsafe(varint());
  let o = 0;
  while (i < delta.length) {
    const op = delta[i++];
    if (op & 0x80) {
      let off = 0;
      let len = 0;
      for (let b = 0; b < 4; b++) if (op & (1 << b)) off += delta[i++] * 2 ** (8 * b);
      for (let b = 0; b < 3; b++) if (op & (0x10 << b)) len += delta[i++] * 2 ** (8 * b);
      len ||= 0x10000;
      if (off + len > base.length || o + len > out.length) unsure("a delta copies outside its base");
      o += base.copy(out, o, off, off + len);
    } else if (op && o + op <= out.length && i + op <= delta.length) {
      o += delta.copy(out, o, i, (i += op));
    } else unsure("a delta is malformed");
  }
  return o === out.length ? out : unsure("a delta is shorter than it says");
}
