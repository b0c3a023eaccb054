// The fast path of observation: what `git ls-tree HEAD`, `git rev-parse`, `git status` and
// `git tag --points-at` would say, read from a repository's files without starting git.
//
// Every answer is either exactly git's or "cannot tell" (a thrown CannotTell, or any other error,
// turned into { ok: false } by `fast`), and then the caller runs git itself. The fast path only
// covers the plain shape that po's projects have: a `.git` directory or `gitdir:` file owned by us,
// refs in files (loose or packed-refs), objects loose or in version 2 packs, an index of version
// 2, 3 or 4. It declines whenever git's answer could depend on something it does not read:
// GIT_DIR-style environment variables, repository extensions (sha256, reftable, worktree config),
// config includes, linked worktrees, replace refs, a split or sparse index, conflicts,
// intent-to-add or skip-worktree entries, nested submodules, a work tree elsewhere, files whose
// stat data differ from the index, files not in the index, attributes where contents must be read…
//
// Why the gitlink is read from the HEAD commit's tree and not from the index: the index may hold a
// staged but uncommitted gitlink, and `git ls-tree HEAD` does not see it. Reading the tree is exact
// and cheap (one commit and one tree object per path component).
//
// How a submodule is proven clean (what `git status --porcelain --untracked-files=normal` would
// print nothing for), in three steps, each conservative:
//  1. index = HEAD: the tree that the index entries hash to (computed here exactly as
//     `git write-tree` would) is HEAD's tree. Equal trees mean no staged change at all.
//  2. work tree = index: every entry's lstat matches the stat data stored in the index, field by
//     field (ctime, mtime to the nanosecond, dev, ino, uid, gid, size, type and executable bit).
//     Git compares fewer fields than we do, so a match here is a match for git. An entry that is
//     racily clean (its mtime is not older than the index file, to the second, as this git compares
//     it) git checks by content: so do we, by hashing the file as a blob, but only where no
//     attribute or line-ending conversion can apply (no .gitattributes anywhere, no info/attributes,
//     no global or system attributes, no CR in the file); otherwise we decline.
//  3. nothing untracked: every file and directory of the work tree (".git" excepted, as git does)
//     is an index entry, a directory holding one, an empty directory, or ignored. Ignore rules
//     (every .gitignore, info/exclude, the global excludes file) are matched only when all of them
//     are of the plain kind (names, `*`, anchoring `/`, directory-only `/`, no negation); any
//     other pattern, or a config naming other rule files, makes us decline.
import { createHash } from "node:crypto";
import {
  closeSync,
  fstatSync,
  lstatSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  readSync,
  realpathSync,
  statSync,
  type Dirent,
} from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import {
  cannot,
  CannotTell,
  commitTree,
  ObjectStore,
  readText,
  SHA,
  tagTarget,
  treeEntries,
  type GitObject,
} from "./git-objects.js";

export type Fast<T> = { ok: true; value: T } | { ok: false; why: string };

/** Runs `fn`; any error (CannotTell or an unexpected one) means "ask git". */
export function fast<T>(fn: () => T): Fast<T> {
  try {
    return { ok: true, value: fn() };
  } catch (e) {
    return {
      ok: false,
      why: e instanceof CannotTell ? e.message : `unexpected: ${(e as Error)?.message ?? String(e)}`,
    };
  }
}

/** The fast path's answer, or undefined when it is off; declines are said under PO_DEBUG. */
export function tryFast<T>(what: string, fn: () => T): Fast<T> | undefined {
  if (!fastPathEnabled()) return undefined;
  const r = fast(fn);
  if (!r.ok && process.env.PO_DEBUG) process.stderr.write(`po: fast path declined ${what} (${r.why}); asking git\n`);
  return r;
}

// Environment that changes which repository, index or objects git reads, or how.
const GIT_ENV = [
  "GIT_DIR",
  "GIT_WORK_TREE",
  "GIT_INDEX_FILE",
  "GIT_OBJECT_DIRECTORY",
  "GIT_ALTERNATE_OBJECT_DIRECTORIES",
  "GIT_COMMON_DIR",
  "GIT_NAMESPACE",
  "GIT_REPLACE_REF_BASE",
  "GIT_SHALLOW_FILE",
  "GIT_GRAFT_FILE",
  "GIT_CONFIG_PARAMETERS",
  "GIT_CONFIG_COUNT",
  "GIT_ATTR_SOURCE",
];

let steered: boolean | undefined;

/** False when the environment could steer git away from what the files say, or PO_FAST_PATH=0. */
export function fastPathEnabled(): boolean {
  // Read once: a po process does not change its git environment, and env lookups are not free.
  steered ??= GIT_ENV.some((k) => process.env[k] !== undefined);
  return !steered && process.env.PO_FAST_PATH !== "0";
}

// Paths po passes to git as a pathspec: plain components (none "." or ".."), no magic, no globs.
const PLAIN_PATH = /^[A-Za-z0-9_-][A-Za-z0-9._-]*(\/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$/;

const uid = process.getuid?.();

// Paths and ref names the fast path compares as strings: printable ASCII, so that code-unit order is
// git's byte order and no encoding question arises.
const ASCII_PATH = /^[\x20-\x7e]+$/;

// An empty, "." or ".." component of a slash-separated name.
const ODD_COMPONENT = /(?:^|\/)\.{0,2}(?:\/|$)/;

function ownedByUs(path: string, info = statSync(path)): void {
  // git refuses repositories of other users (safe.directory); let git decide those.
  if (uid === undefined || info.uid !== uid) cannot(`${path} is not owned by this user`);
}

interface RepoConfig {
  bare: boolean;
  worktree?: string;
  /** core.ignoreCase, core.excludesFile or core.attributesFile is set: matching ignore or attribute rules is left to git */
  ownRules?: string;
}

/** The few settings of a $GIT_DIR/config that decide whether the fast path applies at all. */
function readConfig(text: string): RepoConfig {
  const out: RepoConfig = { bare: false };
  let section = "";
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    if (line.endsWith("\\")) cannot("config with a continued line");
    const header = /^\[\s*([A-Za-z0-9.-]+)(\s+"(?:[^"\\]|\\.)*")?\s*\](.*)$/.exec(line);
    if (header) {
      section = header[1].toLowerCase() + (header[2] ? " sub" : "");
      if (/^(extensions|include|includeif)\b/.test(section)) cannot(`config has [${header[1]}]`);
      if (header[3].trim() !== "" && !/^[#;]/.test(header[3].trim())) cannot("config with a key on its section line");
      continue;
    }
    if (section !== "core") continue;
    const kv = /^([A-Za-z][A-Za-z0-9-]*)\s*(?:=\s*(.*))?$/.exec(line);
    if (!kv) cannot("config line not understood");
    const key = kv[1].toLowerCase();
    const value = kv[2] === undefined ? "true" : unquote(kv[2]);
    if (key === "repositoryformatversion" && !/^[01]$/.test(value)) cannot(`repository format version ${value}`);
    if (key === "bare")
      out.bare =
        /^(true|yes|on|1)$/i.test(value) ||
        (/^(false|no|off|0|)$/i.test(value) ? false : cannot(`core.bare = ${value}`));
    if (key === "worktree") out.worktree = value;
    if (
      key === "excludesfile" ||
      key === "attributesfile" ||
      (key === "ignorecase" && !/^(false|no|off|0)$/i.test(value))
    )
      out.ownRules = `core.${key}`;
  }
  return out;
}

function unquote(v: string): string {
  let out = "";
  let quoted = false;
  for (let i = 0; i < v.length; i++) {
    const c = v[i];
    if (c === '"') quoted = !quoted;
    else if (c === "\\") {
      const n = v[++i];
      const esc: Record<string, string> = { n: "\n", t: "\t", b: "\b", '"': '"', "\\": "\\" };
      if (esc[n] === undefined) cannot("config escape not understood");
      out += esc[n];
    } else if (!quoted && (c === "#" || c === ";")) break;
    else out += c;
  }
  if (quoted) cannot("config value with an open quote");
  return out.trimEnd();
}

type RefValue = { sha: string } | { symref: string };

function parseRefFile(text: string, what: string): RefValue {
  const sym = /^ref:\s*(refs\/\S+|HEAD)\s*$/.exec(text);
  if (sym) return { symref: sym[1] };
  const sha = /^([0-9a-f]{40})(\s|$)/.exec(text);
  if (!sha) cannot(`${what} not understood`);
  return { sha: sha[1] };
}

/** A repository read from its files: its git directory, work tree, refs and objects. */
export class Repo {
  readonly objects: ObjectStore;
  private packed?: Map<string, string>;
  private replaced?: boolean;
  private readonly cache = new Map<string, GitObject>();
  private headFile?: string;

  private constructor(
    readonly gitDir: string,
    readonly workTree: string,
    /** the names in the git directory, with their types (one readdir instead of a stat per name) */
    private readonly names: Map<string, Dirent>,
    private readonly config: RepoConfig,
  ) {
    this.objects = new ObjectStore(`${gitDir}/objects`);
  }

  /** The repository whose work tree is `workTree` (it holds `.git`), if the fast path can read it. */
  static open(dir: string): Repo {
    // One normalization here; every path below is this one joined with plain names.
    const workTree = resolve(dir);
    const dotGit = `${workTree}/.git`;
    const info = lstatSync(dotGit);
    ownedByUs(workTree);
    ownedByUs(dotGit, info);
    let gitDir: string;
    if (info.isDirectory()) gitDir = dotGit;
    else if (info.isFile()) {
      // git strips only trailing newlines; a path with other surrounding blanks is left to git
      const m = /^gitdir: (\S(?:.*\S)?)[\r\n]*$/.exec(readText(dotGit, "utf8") ?? cannot(`${dotGit} vanished`));
      if (!m) cannot(`${dotGit} is not a gitdir: file`);
      gitDir = resolve(workTree, m[1]);
      ownedByUs(gitDir);
    } else return cannot(`${dotGit} is neither a directory nor a file`);
    const names = new Map(readdirSync(gitDir, { withFileTypes: true }).map((d) => [d.name, d]));
    // A linked worktree shares refs and objects with another git directory: not read here.
    if (names.has("commondir")) cannot("a linked worktree");
    if (!names.get("objects")?.isDirectory() || !names.get("refs")?.isDirectory() || !names.get("HEAD")?.isFile())
      cannot("not a git directory");
    const config = names.has("config")
      ? readConfig(readText(`${gitDir}/config`, "utf8") ?? cannot("config vanished"))
      : { bare: false };
    if (config.bare) cannot("a bare repository");
    if (config.worktree !== undefined && resolve(gitDir, config.worktree) !== resolve(workTree))
      cannot("core.worktree points elsewhere");
    return new Repo(gitDir, workTree, names, config);
  }

  /** Whether the git directory holds `name` (MERGE_HEAD, rebase-merge, …). */
  has(name: string): boolean {
    return this.names.has(name);
  }

  /** The text of HEAD. */
  headText(): string {
    this.headFile ??= readText(`${this.gitDir}/HEAD`, "latin1", true) ?? cannot("HEAD vanished");
    return this.headFile;
  }

  private packedRefs(): Map<string, string> {
    if (this.packed) return this.packed;
    const refs = new Map<string, string>();
    const text = this.names.has("packed-refs")
      ? (readText(`${this.gitDir}/packed-refs`, "latin1") ?? cannot("packed-refs vanished"))
      : "";
    for (const line of text.split("\n")) {
      if (line === "" || line.startsWith("# pack-refs with:") || /^\^[0-9a-f]{40}$/.test(line)) continue;
      const m = /^([0-9a-f]{40}) (refs\/\S+)$/.exec(line);
      if (!m || refs.has(m[2])) cannot("packed-refs line not understood");
      refs.set(m[2], m[1]);
    }
    this.packed = refs;
    return refs;
  }

  private looseRef(name: string): RefValue | undefined {
    if (name === "HEAD") return parseRefFile(this.headText(), name);
    let text: string | undefined;
    try {
      // O_NOFOLLOW: git reads a symlinked ref as a symbolic ref, not as the file it points to.
      text = readText(`${this.gitDir}/${name}`, "latin1", true);
    } catch (e) {
      // A directory where the loose ref would be: git looks in packed-refs.
      if ((e as NodeJS.ErrnoException).code === "EISDIR") return undefined;
      throw e;
    }
    return text === undefined ? undefined : parseRefFile(text, name);
  }

  /** What a full ref name (or HEAD) resolves to, following symbolic refs; undefined when it does not exist. */
  ref(name: string): string | undefined {
    for (let depth = 0; depth <= 5; depth++) {
      if (name !== "HEAD" && (!name.startsWith("refs/") || ODD_COMPONENT.test(name))) cannot(`ref name ${name}`);
      const v = this.looseRef(name) ?? (name === "HEAD" ? undefined : this.packedRefs().get(name));
      if (v === undefined || typeof v === "string") return v;
      if ("sha" in v) return v.sha;
      name = v.symref;
    }
    return cannot("symbolic refs nested too deep");
  }

  /** The commit HEAD names; undefined on an unborn branch. */
  head(): string | undefined {
    return this.ref("HEAD");
  }

  /** An object, unless replace refs could make git see another one. */
  object(sha: string): GitObject {
    this.replaced ??=
      statSync(`${this.gitDir}/refs/replace`, { throwIfNoEntry: false }) !== undefined ||
      [...this.packedRefs().keys()].some((k) => k.startsWith("refs/replace/"));
    if (this.replaced) cannot("the repository has replace refs");
    let o = this.cache.get(sha);
    if (!o) this.cache.set(sha, (o = this.objects.read(sha)));
    return o;
  }

  /** `git ls-tree HEAD -- path`: the commit of the gitlink at `path` in HEAD, undefined when there is none. */
  gitlinkInHead(path: string): string | undefined {
    if (!PLAIN_PATH.test(path)) cannot(`path ${path}`);
    const head = this.head();
    if (head === undefined) return undefined;
    let tree = commitTree(this.object(head));
    const parts = path.split("/");
    for (let i = 0; i < parts.length; i++) {
      const entry = treeEntries(this.object(tree)).find((e) => e.name.toString("latin1") === parts[i]);
      if (!entry) return undefined;
      if (i === parts.length - 1) return entry.mode === "160000" ? entry.sha : undefined;
      if (entry.mode !== "40000") return undefined;
      tree = entry.sha;
    }
    return undefined;
  }

  /** `git rev-parse --verify --quiet NAME^{commit}` for a full ref name `refs/…`; undefined when git finds nothing. */
  refCommit(name: string): string | undefined {
    if (!/^refs\/[A-Za-z0-9._\/+-]+$/.test(name) || /-g[0-9a-fA-F]+$/.test(name) || name.endsWith(".lock"))
      cannot(`ref ${name}`);
    const sha = this.ref(name);
    if (sha === undefined) {
      // A name git does not find as written, it looks for as a short name (refs/tags/NAME, …).
      const dwim = [
        `refs/${name}`,
        `refs/tags/${name}`,
        `refs/heads/${name}`,
        `refs/remotes/${name}`,
        `refs/remotes/${name}/HEAD`,
      ];
      if (dwim.some((n) => this.ref(n) !== undefined)) cannot(`${name} is found only as a short name`);
      return undefined;
    }
    return this.peelToCommit(sha);
  }

  /** `sha^{commit}`: follows tags; undefined when it ends at a tree or blob. */
  private peelToCommit(sha: string): string | undefined {
    for (let depth = 0; depth < 100; depth++) {
      const o = this.object(sha);
      if (o.type === "commit") return sha;
      if (o.type !== "tag") return undefined;
      sha = tagTarget(o).sha;
    }
    return cannot("tags nested too deep");
  }

  /** Full names of the tags (loose and packed), each with the object it names. */
  private tags(): Map<string, string> {
    const out = new Map<string, string>();
    for (const [name, sha] of this.packedRefs()) {
      if (!name.startsWith("refs/tags/")) continue;
      if (!ASCII_PATH.test(name)) cannot(`non-ASCII tag name ${name}`);
      out.set(name, sha);
    }
    const walk = (rel: string): void => {
      let entries;
      try {
        entries = readdirSync(join(this.gitDir, rel), { withFileTypes: true });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
        throw e;
      }
      for (const d of entries) {
        const name = `${rel}/${d.name}`;
        if (!ASCII_PATH.test(name)) cannot(`non-ASCII tag name ${name}`);
        if (d.isDirectory()) walk(name);
        else if (d.isFile()) {
          if (d.name.endsWith(".lock") || d.name.startsWith(".")) cannot(`odd tag file ${name}`);
          const v = parseRefFile(readFileSync(join(this.gitDir, name), "latin1"), name);
          if (!("sha" in v)) cannot(`symbolic tag ${name}`);
          out.set(name, v.sha);
        } else cannot(`odd tag entry ${name}`);
      }
    };
    walk("refs/tags");
    return out;
  }

  /** `git tag --points-at COMMIT --sort=refname`: names of the tags at `commit`, sorted. */
  tagsAt(commit: string): string[] {
    if (!SHA.test(commit)) cannot(`not a commit id: ${commit}`);
    const hits: string[] = [];
    for (const [name, sha] of this.tags()) {
      if (sha === commit) {
        hits.push(name);
        continue;
      }
      const o = this.object(sha);
      if (o.type !== "tag") continue;
      const target = tagTarget(o);
      // git versions differ on whether a tag of a tag points at what the inner tag names.
      if (target.type === "tag") cannot(`${name} is a tag of a tag`);
      if (target.sha === commit) hits.push(name);
    }
    return hits.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map((n) => n.slice("refs/tags/".length));
  }

  /**
   * For a racily clean entry git compares contents: the file hashed as a blob must be the entry's
   * blob, which holds only when no conversion applies to it.
   */
  private sameContent(file: string, e: IndexEntry, files: Set<string>): void {
    const why =
      [...files].find((f) => f === ".gitattributes" || f.endsWith("/.gitattributes")) ??
      this.config.ownRules ??
      (statSync(`${this.gitDir}/info/attributes`, { throwIfNoEntry: false })
        ? "info/attributes"
        : outside().attributes);
    if (why) cannot(`${file} is racily clean and attributes (${why}) may convert it`);
    if (e.size > MAX_HASHED) cannot(`${file} is racily clean and large`);
    const content = (e.mode & 0o170000) === 0o120000 ? readlinkSync(file, { encoding: "buffer" }) : readFileSync(file);
    if (content.includes(0x0d)) cannot(`${file} is racily clean and has CR line endings`);
    if (!blobId(content).equals(e.sha)) cannot(`${file} is racily clean and its content changed`);
  }

  /** True when `git status --porcelain --untracked-files=normal` prints nothing; throws CannotTell when unsure. */
  isClean(): true {
    const head = this.head();
    if (head === undefined) cannot("unborn HEAD");
    const headTree = commitTree(this.object(head));
    if (!this.names.get("index")?.isFile()) cannot("no index file");
    const fd = openSync(`${this.gitDir}/index`, "r");
    let indexTime: bigint;
    let index: IndexEntry[];
    try {
      const st = fstatSync(fd, { bigint: true });
      indexTime = st.mtimeNs / 1_000_000_000n;
      const buf = Buffer.allocUnsafe(Number(st.size));
      for (let got = 0; got < buf.length;) {
        const n = readSync(fd, buf, got, buf.length - got, got);
        if (n === 0) cannot("the index shrank while read");
        got += n;
      }
      index = readIndex(buf);
    } finally {
      closeSync(fd);
    }
    if (writeTree(index) !== headTree) cannot("the index differs from HEAD");
    const files = new Set<string>();
    const dirs = new Set<string>([""]);
    for (const e of index) {
      if (!ASCII_PATH.test(e.path)) cannot(`non-ASCII path ${e.path}`);
      files.add(e.path);
      for (let i = e.path.indexOf("/"); i >= 0; i = e.path.indexOf("/", i + 1)) dirs.add(e.path.slice(0, i));
    }
    // Nothing untracked: walk the work tree (readdir types are lstat types: symlinked dirs are not
    // followed). What is not tracked must be ignored, or be an empty directory, as git would not
    // show either. (Git also ignores what lies below an ignored directory holding tracked files;
    // we look at each untracked path's own patterns only, which can only make us decline more.)
    let rules: IgnoreRules | undefined;
    const ignored = (path: string, dir: boolean) =>
      (rules ??= new IgnoreRules(this.workTree, this.gitDir, this.config)).ignores(path, dir);
    const walk = (rel: string, tracked: boolean): void => {
      for (const d of readdirSync(rel ? `${this.workTree}/${rel}` : this.workTree, { withFileTypes: true })) {
        const path = rel ? `${rel}/${d.name}` : d.name;
        if (d.name === ".git") {
          if (!tracked) cannot(`a repository inside the untracked ${rel}`);
          continue; // git never looks into a .git
        }
        if (tracked && d.isDirectory() && dirs.has(path)) walk(path, true);
        else if (tracked && files.has(path)) continue;
        else if (!d.isDirectory() && !d.isFile() && !d.isSymbolicLink()) cannot(`odd file ${path}`);
        else if (!ASCII_PATH.test(path)) cannot(`non-ASCII path ${path}`);
        else if (d.name === ".gitattributes")
          cannot(`untracked ${path}`); // it would apply to the racy-content check
        else if (ignored(path, d.isDirectory())) continue;
        else if (d.isDirectory())
          walk(path, false); // shown by git only if something in it is neither ignored nor empty
        else cannot(`untracked ${path}`);
      }
    };
    walk("", true);
    for (const e of index) {
      const file = `${this.workTree}/${e.path}`;
      if (!statMatches(file, e)) cannot(`${file} differs from its index entry`);
      if (BigInt(e.mtimeS) >= (indexTime & U32)) this.sameContent(file, e, files);
    }
    return true;
  }
}

const MAX_HASHED = 1 << 20;

interface Pattern {
  /** the directory of the .gitignore it comes from ("" for the top and for exclude files) */
  base: string;
  re: RegExp;
  /** with a slash before its end: matched against the path below `base`, else against the name */
  anchored: boolean;
  dirOnly: boolean;
}

/**
 * The ignore patterns of a file, when all are of the plain kind matched here: names, `*` wildcards,
 * a leading or inner `/` (anchored), a trailing `/` (directories only). A negation (`!`) anywhere
 * could re-include a path, and `**`, `?`, `[…]` and escapes are not handled: git decides those.
 */
function parseIgnore(text: string, base: string): Pattern[] {
  const out: Pattern[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.replace(/ +$/, "");
    if (line === "" || line.startsWith("#")) continue;
    if (!/^\/?[A-Za-z0-9._*-]+(\/[A-Za-z0-9._*-]+)*\/?$/.test(line) || line.includes("**"))
      cannot(`ignore pattern ${JSON.stringify(raw)}`);
    const dirOnly = line.endsWith("/");
    const body = dirOnly ? line.slice(0, -1) : line;
    const glob = body.replace(/^\//, "");
    const re = new RegExp(
      `^${glob
        .split("*")
        .map((part) => part.replace(/\./g, "\\."))
        .join("[^/]*")}$`,
    );
    out.push({ base, re, anchored: body.includes("/"), dirOnly });
  }
  return out;
}

/** The ignore rules that apply in a work tree: info/exclude, the global excludes file, every .gitignore. */
class IgnoreRules {
  private readonly top: Pattern[];
  private readonly perDir = new Map<string, Pattern[]>();

  constructor(
    private readonly workTree: string,
    gitDir: string,
    config: RepoConfig,
  ) {
    if (config.ownRules) cannot(`${config.ownRules} is set`);
    const global = outside().excludes;
    if (typeof global === "string") cannot(`global excludes: ${global}`);
    // no symbolic links followed (git does not follow an in-tree .gitignore; we decline all links)
    const exclude = readText(`${gitDir}/info/exclude`, "utf8", true);
    this.top = [...global, ...(exclude === undefined ? [] : parseIgnore(exclude, ""))];
  }

  private patternsOf(dir: string): Pattern[] {
    let p = this.perDir.get(dir);
    if (!p) {
      const text = readText(dir ? `${this.workTree}/${dir}/.gitignore` : `${this.workTree}/.gitignore`, "utf8", true);
      this.perDir.set(dir, (p = text === undefined ? [] : parseIgnore(text, dir)));
    }
    return p;
  }

  /** Whether `path` (a directory when `dir`) is ignored. Without negations, any match ignores. */
  ignores(path: string, dir: boolean): boolean {
    const name = path.slice(path.lastIndexOf("/") + 1);
    const levels = [""];
    for (let i = path.indexOf("/"); i >= 0; i = path.indexOf("/", i + 1)) levels.push(path.slice(0, i));
    const all = [...this.top, ...levels.flatMap((l) => this.patternsOf(l))];
    return all.some(
      (p) => (!p.dirOnly || dir) && p.re.test(p.anchored ? path.slice(p.base ? p.base.length + 1 : 0) : name),
    );
  }
}

function blobId(content: Buffer): Buffer {
  return createHash("sha1").update(`blob ${content.length}\0`).update(content).digest();
}

interface Outside {
  /** why attributes from outside the repository could apply to some file, or null */
  attributes: string | null;
  /** why excludes from outside the repository are not read here, or the patterns of the global excludes file */
  excludes: string | Pattern[];
}

let outsideRules: Outside | undefined;

/**
 * Attributes and excludes that apply from outside the repository: global and system attributes
 * files, and the global excludes file. Any config that names such files or includes others makes
 * us decline rather than follow it.
 */
function outside(): Outside {
  if (outsideRules) return outsideRules;
  const env = process.env;
  const home = env.HOME ?? homedir();
  const xdg = env.XDG_CONFIG_HOME || join(home, ".config");
  const exists = (f: string) => statSync(f, { throwIfNoEntry: false }) !== undefined;
  const configs =
    env.GIT_CONFIG_GLOBAL !== undefined
      ? [env.GIT_CONFIG_GLOBAL]
      : [join(home, ".gitconfig"), join(xdg, "git", "config")];
  const attributes = [join(xdg, "git", "attributes")];
  if (!env.GIT_CONFIG_NOSYSTEM) configs.push(...systemFiles("gitconfig", env.GIT_CONFIG_SYSTEM));
  if (!env.GIT_ATTR_NOSYSTEM) attributes.push(...systemFiles("gitattributes"));
  const texts = configs.filter(exists).map((f) => [f, readFileSync(f, "utf8")] as const);
  const naming = (re: RegExp) => texts.find(([, t]) => re.test(t) || /^\s*\[\s*include/im.test(t))?.[0];
  const excludesFile = join(xdg, "git", "ignore");
  const excludes = (): string | Pattern[] => {
    const r = fast(() => (exists(excludesFile) ? parseIgnore(readFileSync(excludesFile, "utf8"), "") : []));
    return r.ok ? r.value : `${excludesFile}: ${r.why}`;
  };
  outsideRules = {
    attributes: attributes.find(exists) ?? naming(/attributesfile/i) ?? null,
    excludes: naming(/excludesfile/i) ?? excludes(),
  };
  return outsideRules;
}

/** Where git keeps its system-wide `name`: /etc, or etc/ under the prefix of the git on PATH. */
function systemFiles(name: string, explicit?: string): string[] {
  if (explicit !== undefined) return [explicit];
  const out = [join("/etc", name)];
  for (const dir of (process.env.PATH ?? "").split(":").filter(Boolean)) {
    const git = join(dir, "git");
    if (!statSync(git, { throwIfNoEntry: false })?.isFile()) continue;
    const prefix = dirname(dirname(realpathSync(git)));
    if (prefix !== "/usr") out.push(join(prefix, "etc", name));
    break;
  }
  return out;
}

interface IndexEntry {
  /** the path's bytes as a latin1 string */
  path: string;
  ctimeS: number;
  ctimeNs: number;
  mtimeS: number;
  mtimeNs: number;
  dev: number;
  ino: number;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  sha: Buffer;
}

/** The entries of an index file of version 2, 3 or 4 (checksum verified); declines on anything unusual. */
export function readIndex(buf: Buffer): IndexEntry[] {
  if (buf.length < 32 || buf.toString("latin1", 0, 4) !== "DIRC") cannot("not an index file");
  const trailer = buf.subarray(buf.length - 20);
  if (
    trailer.some((b) => b !== 0) &&
    !createHash("sha1")
      .update(buf.subarray(0, buf.length - 20))
      .digest()
      .equals(trailer)
  )
    cannot("index checksum mismatch");
  const version = buf.readUInt32BE(4);
  if (version < 2 || version > 4) cannot(`index version ${version}`);
  const count = buf.readUInt32BE(8);
  const out: IndexEntry[] = [];
  let at = 12;
  let previous = "";
  for (let n = 0; n < count; n++) {
    const start = at;
    const u = (i: number) => buf.readUInt32BE(start + i * 4);
    const flags = buf.readUInt16BE(start + 60);
    at = start + 62;
    if (flags & 0x4000) {
      if (version < 3) cannot("extended flag in a version 2 index");
      if (buf.readUInt16BE(at) !== 0) cannot("skip-worktree or intent-to-add entry");
      at += 2;
    }
    if (flags & 0x3000) cannot("an unmerged entry");
    let path: string;
    if (version === 4) {
      let c = buf[at++];
      let strip = c & 0x7f;
      while (c & 0x80) {
        c = buf[at++];
        strip = (strip + 1) * 128 + (c & 0x7f);
      }
      const nul = buf.indexOf(0, at);
      if (strip > previous.length || nul < 0) cannot("malformed index v4 path");
      path = previous.slice(0, previous.length - strip) + buf.toString("latin1", at, nul);
      at = nul + 1;
    } else {
      const nul = buf.indexOf(0, at);
      if (nul < 0) cannot("malformed index path");
      path = buf.toString("latin1", at, nul);
      at = start + ((nul - start + 8) & ~7);
    }
    if ((flags & 0xfff) !== Math.min(path.length, 0xfff)) cannot("index path length mismatch");
    previous = path;
    out.push({
      path,
      ctimeS: u(0),
      ctimeNs: u(1),
      mtimeS: u(2),
      mtimeNs: u(3),
      dev: u(4),
      ino: u(5),
      mode: u(6),
      uid: u(7),
      gid: u(8),
      size: u(9),
      sha: buf.subarray(start + 40, start + 60),
    });
  }
  // Extensions: optional ones (upper-case signature: cache tree, untracked cache, fsmonitor, …) do
  // not change the entries; a required one (split index "link", sparse directory "sdir") does.
  while (at < buf.length - 20) {
    const sig = buf.toString("latin1", at, at + 4);
    if (!/^[A-Z]/.test(sig)) cannot(`index extension ${sig}`);
    at += 8 + buf.readUInt32BE(at + 4);
  }
  if (at !== buf.length - 20) cannot("index extensions overrun");
  return out;
}

const TREE_MODES = new Map([
  [0o100644, "100644"],
  [0o100755, "100755"],
  [0o120000, "120000"],
]);

/** The id of the tree the index entries make (what `git write-tree` would write). */
function writeTree(entries: IndexEntry[]): string {
  const build = (lo: number, hi: number, prefix: string): Buffer => {
    const parts: Buffer[] = [];
    for (let i = lo; i < hi;) {
      const rest = entries[i].path.slice(prefix.length);
      const slash = rest.indexOf("/");
      if (slash < 0) {
        const mode = TREE_MODES.get(entries[i].mode);
        if (!mode) cannot(`index entry ${entries[i].path} of mode ${entries[i].mode.toString(8)}`);
        parts.push(Buffer.from(`${mode} ${rest}\0`, "latin1"), entries[i].sha);
        i++;
        continue;
      }
      const sub = prefix + rest.slice(0, slash + 1);
      let j = i;
      while (j < hi && entries[j].path.startsWith(sub)) j++;
      parts.push(Buffer.from(`40000 ${rest.slice(0, slash)}\0`, "latin1"), build(i, j, sub));
      i = j;
    }
    const body = Buffer.concat(parts);
    return createHash("sha1").update(`tree ${body.length}\0`).update(body).digest();
  };
  return build(0, entries.length, "").toString("hex");
}

const U32 = 0xffffffffn;

/** Whether git would take the file as unchanged without reading it (unless racily clean). */
function statMatches(file: string, e: IndexEntry): boolean {
  const st = lstatSync(file, { bigint: true });
  const s = (ns: bigint) => Number((ns / 1_000_000_000n) & U32);
  const ns = (v: bigint) => Number(v % 1_000_000_000n);
  const type = e.mode & 0o170000;
  const sameType =
    type === 0o100000
      ? st.isFile() && ((Number(st.mode) ^ e.mode) & 0o100) === 0
      : type === 0o120000 && st.isSymbolicLink();
  return (
    sameType &&
    s(st.ctimeNs) === e.ctimeS &&
    ns(st.ctimeNs) === e.ctimeNs &&
    s(st.mtimeNs) === e.mtimeS &&
    ns(st.mtimeNs) === e.mtimeNs &&
    Number(st.dev & U32) === e.dev &&
    Number(st.ino & U32) === e.ino &&
    Number(st.uid & U32) === e.uid &&
    Number(st.gid & U32) === e.gid &&
    Number(st.size & U32) === e.size
  );
}
