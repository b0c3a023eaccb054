// The small git reader: HEAD and the gitlink at a path in HEAD's tree, the two questions po puts to
// every project, read from a repository's files: a few small files and two or three objects, by
// random access (a loose object is one file through zlib; a packed one is found through its .idx
// fan-out table and one slice of names, never the whole .idx), each checked against its id.
//
// It answers only for the plain shape: SHA-1 objects, refs in files, no repository extensions, no
// linked worktree, no replace refs, nothing in the environment steering git. For anything else or
// not understood (a corrupt object, an odd ref) it throws Unsure and the caller asks git that one
// question. It never says "missing" for an object git might still find (alternates, promisor
// remotes): only "here it is" or "unsure".
import { createHash } from "node:crypto";
import { closeSync, constants, lstatSync, openSync, readdirSync, readSync } from "node:fs";
import { resolve } from "node:path";
import { inflated, Pack, unsure, type Obj } from "./git-pack.js";

// Environment that changes which repository, objects or refs git reads.
const STEERING = ["GIT_DIR", "GIT_COMMON_DIR", "GIT_OBJECT_DIRECTORY", "GIT_ALTERNATE_OBJECT_DIRECTORIES"];
const steered = () => [...STEERING, "GIT_NAMESPACE", "GIT_REPLACE_REF_BASE"].some((k) => process.env[k] !== undefined);

const HEX40 = /^[0-9a-f]{40}$/;
const uid = process.getuid?.();

let scratch = Buffer.allocUnsafe(64 * 1024);

/**
 * A whole file, read with open, read and close alone (the fewest system calls) into a shared buffer
 * (its bytes are valid until the next read); undefined when it does not exist, or is a directory
 * (where a loose ref would be: git then looks in packed-refs). O_NOFOLLOW: a symbolic link (a
 * symbolic ref, to git) is left to git.
 */
function readSmall(path: string): Buffer | undefined {
  let fd: number | undefined;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    for (let got = 0; ;) {
      if (got === scratch.length) scratch = Buffer.concat([scratch, Buffer.allocUnsafe(scratch.length)]);
      got += readSync(fd, scratch, got, scratch.length - got, null);
      // a regular file reads short only at its end: no extra read to see it
      if (got < scratch.length) return scratch.subarray(0, got);
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR" || code === "EISDIR") return undefined;
    return unsure(`${path}: ${code}`);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function checked(sha: string, o: Obj): Obj {
  const id = createHash("sha1").update(`${o.type} ${o.body.length}\0`).update(o.body).digest("hex");
  return id === sha ? o : unsure(`object ${sha} does not match its id`);
}

/** A repository as the reader sees it. `open` throws Unsure for any shape it does not read. */
export class Repo {
  private packed?: Map<string, string>;
  private packs?: Pack[];

  private constructor(readonly gitDir: string) {}

  /** The repository whose work tree is `workTree` (it holds `.git`); undefined when it has no `.git`. */
  static at(workTree: string): Repo | undefined {
    if (steered()) unsure("the environment steers git");
    const dotGit = `${workTree}/.git`;
    const info = lstatSync(dotGit, { throwIfNoEntry: false });
    if (!info) return undefined;
    // git refuses repositories of other users (safe.directory): let git say so
    if (uid === undefined || info.uid !== uid) unsure("not owned by this user");
    let gitDir = dotGit;
    if (info.isFile()) {
      const m =
        /^gitdir: (.*?)[\r\n]*$/.exec(readSmall(dotGit)?.toString("utf8") ?? "") ?? unsure(".git not understood");
      gitDir = resolve(workTree, m[1]);
      // a linked worktree shares refs and objects with another git directory: not read here
      if (lstatSync(`${gitDir}/commondir`, { throwIfNoEntry: false })) unsure("a linked worktree");
    }
    const config = readSmall(`${gitDir}/config`)?.toString("latin1") ?? "";
    // extensions (objectFormat = sha256, refStorage, worktreeConfig…) and includes change how to read it
    if (/^\s*\[\s*(extensions|include)/im.test(config) || /repositoryformatversion\s*=\s*[^0\s]/i.test(config))
      unsure("repository extensions or config includes");
    return new Repo(gitDir);
  }

  private packedRefs(): Map<string, string> {
    if (this.packed) return this.packed;
    this.packed = new Map();
    // looked at first: a failed open costs more than a look
    const there = lstatSync(`${this.gitDir}/packed-refs`, { throwIfNoEntry: false });
    const text = (there && readSmall(`${this.gitDir}/packed-refs`)?.toString("latin1")) ?? "";
    for (const line of text.split("\n")) {
      if (line === "" || line.startsWith("#") || line.startsWith("^")) continue;
      const m = /^([0-9a-f]{40}) (refs\/\S+)$/.exec(line) ?? unsure("packed-refs not understood");
      this.packed.set(m[2], m[1]);
    }
    const replaced = lstatSync(`${this.gitDir}/refs/replace`, { throwIfNoEntry: false });
    if (replaced || [...this.packed.keys()].some((k) => k.startsWith("refs/replace/"))) unsure("replace refs");
    return this.packed;
  }

  /** The commit HEAD names, following symbolic refs; undefined on an unborn branch. */
  head(): string | undefined {
    let name = "HEAD";
    for (let depth = 0; depth < 5; depth++) {
      if (name !== "HEAD" && (!/^refs\/[\x21-\x7e]+$/.test(name) || /(^|\/)\.|\.\.|\/$/.test(name)))
        unsure(`ref name ${name}`);
      const text = readSmall(`${this.gitDir}/${name}`)?.toString("latin1");
      if (text === undefined && name === "HEAD") unsure("no HEAD");
      const value = text === undefined ? this.packedRefs().get(name) : text.trim();
      if (value === undefined) return undefined;
      if (HEX40.test(value)) return value;
      name = /^ref: (\S+)$/.exec(value)?.[1] ?? unsure(`${name} not understood`);
    }
    return unsure("symbolic refs nested too deep");
  }

  /** An object by id, checked against it. */
  object(sha: string): Obj {
    if (!HEX40.test(sha)) unsure(`object id ${sha}`);
    const loose = readSmall(`${this.gitDir}/objects/${sha.slice(0, 2)}/${sha.slice(2)}`);
    if (loose) {
      const data = inflated(loose, `loose object ${sha}`);
      const nul = data.indexOf(0);
      const m = /^(commit|tree|blob|tag) (\d+)$/.exec(data.toString("latin1", 0, Math.max(nul, 0)));
      if (!m || Number(m[2]) !== data.length - nul - 1) unsure(`loose object ${sha} has an odd header`);
      return checked(sha, { type: m[1], body: data.subarray(nul + 1) });
    }
    this.packs ??= packNames(`${this.gitDir}/objects/pack`);
    for (const pack of this.packs) {
      const offset = pack.offsetOf(sha);
      const read = (id: string) => this.object(id);
      if (offset !== undefined) return checked(sha, pack.read(offset, read));
    }
    return unsure(`object ${sha} is not here`);
  }

  /** What `git ls-tree HEAD -- path` names at `path` when it is a gitlink; undefined when it is not one. */
  gitlinkInHead(path: string): string | undefined {
    const parts = path.split("/");
    // pathspec magic, globs and odd components mean more to git than a plain name
    if (/[*?[\\]|^:/.test(path) || parts.some((p) => p === "" || p === "." || p === "..")) unsure(`path ${path}`);
    const head = this.head();
    if (head === undefined) return undefined;
    this.packedRefs(); // it declines replace refs, which would make git read other objects than the ones named
    const commit = this.object(head);
    let sha = /^tree ([0-9a-f]{40})\n/.exec(commit.body.toString("latin1", 0, 46))?.[1];
    if (commit.type !== "commit" || !sha) return unsure("HEAD is not a commit");
    for (const [i, part] of parts.entries()) {
      const entry = treeEntry(this.object(sha), Buffer.from(part));
      if (!entry) return undefined;
      if (i === parts.length - 1) return entry.mode === "160000" ? entry.sha : undefined;
      if (entry.mode !== "40000") return undefined;
      sha = entry.sha;
    }
    return undefined;
  }
}

function packNames(dir: string): Pack[] {
  try {
    return readdirSync(dir)
      .filter((n) => n.endsWith(".idx"))
      .map((n) => new Pack(`${dir}/${n.slice(0, -4)}`));
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "ENOENT" ? [] : unsure(`${dir} unreadable`);
  }
}

function treeEntry(tree: Obj, name: Buffer): { mode: string; sha: string } | undefined {
  if (tree.type !== "tree") unsure("not a tree");
  const b = tree.body;
  for (let i = 0; i < b.length;) {
    const space = b.indexOf(0x20, i);
    const nul = b.indexOf(0, space);
    if (space < 0 || nul < 0 || nul + 21 > b.length) unsure("malformed tree");
    if (b.subarray(space + 1, nul).equals(name))
      return { mode: b.toString("latin1", i, space), sha: b.toString("hex", nul + 1, nul + 21) };
    i = nul + 21;
  }
  return undefined;
}
