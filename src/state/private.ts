// Every write po makes into its state folders (.ao-state, and a host's state home) goes through here.
// They are private whatever the umask (folders 0700, files 0600: journals and agent logs may hold
// secrets), .ao-state ignores itself so no repository commits it, and po never writes through a
// symbolic link there: a project's files are written by its agents and its authors, and a link
// planted in .ao-state would otherwise make po write outside the project.
import { chmodSync, closeSync, constants, fchmodSync, lstatSync, mkdirSync, openSync } from "node:fs";
import { linkSync, readdirSync, readlinkSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { basename, dirname, join, relative, resolve, sep } from "node:path";
import { UserError } from "../common/problems.js";

const DIR_MODE = 0o700;
const FILE_MODE = 0o600;
const STATE = ".ao-state";
const { O_APPEND, O_CREAT, O_EXCL, O_NOFOLLOW, O_WRONLY } = constants;

/** Where po keeps its own state on a host: the apply lock and journal of the applies it ran there. */
export function hostStateDir(): string {
  const base = process.env.XDG_STATE_HOME || join(homedir(), ".local", "state");
  return join(base, "po");
}

/** A write into a state folder that failed or was refused: the file, and why, in one line. */
export class StateWriteError extends UserError {
  constructor(
    readonly file: string,
    readonly why: string,
    /** the system's error code (ENOSPC, …); none for a refusal */
    readonly code?: string,
  ) {
    super(`could not write ${file}: ${why}`);
  }
}

function linkError(file: string, link: string): StateWriteError {
  let target = "";
  try {
    target = ` (to ${readlinkSync(link)})`;
  } catch {
    // gone meanwhile: it was a link all the same
  }
  const what = link === file ? "it" : link;
  return new StateWriteError(
    file,
    `${what} is a symbolic link${target}, which po never follows in its state folder; remove it, then run po again`,
  );
}

/** A system error as the reason of a StateWriteError ("no space left on device"); any other error as it is. */
function wrap(file: string, e: unknown): Error {
  const err = e as NodeJS.ErrnoException;
  if (err?.code === "ELOOP") return linkError(file, file);
  if (typeof err?.code !== "string") return err;
  return new StateWriteError(file, /^E[A-Z]+: ([^,]*)/.exec(err.message)?.[1] ?? err.message, err.code);
}

/** The folder the state begins at: the last .ao-state in `path`, or the host's state home. */
function stateRoot(path: string): string {
  const parts = path.split(sep);
  const at = parts.lastIndexOf(STATE);
  if (at >= 0) return parts.slice(0, at + 1).join(sep);
  const home = hostStateDir();
  if (!relative(home, path).startsWith("..")) return home;
  throw new Error(`${path} is not in a state folder of po`);
}

/** Creates `file` 0600 with `text` unless something is there already (false then); never follows a link. */
function create(file: string, text: string): boolean {
  let fd: number;
  try {
    fd = openSync(file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, FILE_MODE);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw wrap(file, e);
  }
  try {
    writeFileSync(fd, text);
  } catch (e) {
    rmSync(file, { force: true });
    throw wrap(file, e);
  } finally {
    closeSync(fd);
  }
  return true;
}

/** One folder of the state: made 0700, or checked to be a real folder (not a link) and tightened. */
function ensureFolder(folder: string, wanted: string): void {
  try {
    mkdirSync(folder, { mode: DIR_MODE });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw wrap(wanted, e);
  }
  const info = lstatSync(folder);
  if (info.isSymbolicLink()) throw linkError(wanted, folder);
  if (!info.isDirectory())
    throw new StateWriteError(wanted, `${folder} is not a folder; move it away, then run po again`);
  if ((info.mode & 0o777) !== DIR_MODE) chmodSync(folder, DIR_MODE); // every write passes here: only when wider
  if (basename(folder) === STATE) create(join(folder, ".gitignore"), "*\n");
}

/**
 * Creates `dir` (and the missing folders from its state root down) 0700, tightens them if they
 * exist, and returns it; refuses when one of them is a symbolic link or not a folder.
 */
export function privateDir(dir: string): string {
  const wanted = resolve(dir);
  const root = stateRoot(wanted);
  let folder = dirname(root);
  try {
    mkdirSync(folder, { recursive: true }); // a host's state home may be the first of its kind there
  } catch (e) {
    throw wrap(wanted, e);
  }
  for (const part of relative(dirname(root), wanted).split(sep)) ensureFolder((folder = join(folder, part)), wanted);
  return wanted;
}

/** Refuses when `file` is a symbolic link (a missing file is fine). */
export function refuseLink(file: string): void {
  try {
    if (lstatSync(file).isSymbolicLink()) throw linkError(file, file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw wrap(file, e);
  }
}

/** Creates `file` 0600 with `text`; false, changing nothing, when it exists. */
export function createPrivate(file: string, text: string): boolean {
  privateDir(dirname(file));
  return create(file, text);
}

/** Writes `file` atomically (a private temporary file renamed into place), 0600. */
export function writePrivate(file: string, text: string): void {
  privateDir(dirname(file));
  refuseLink(file);
  const tmp = `${file}.${process.pid}.tmp`;
  rmSync(tmp, { force: true }); // this process's own, left by an earlier failure
  try {
    create(tmp, text);
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e instanceof StateWriteError ? new StateWriteError(file, e.why, e.code) : wrap(file, e);
  }
}

/** A replaced state file: put back as it was, or the old one let go. */
export interface Replaced {
  undo(): void;
  done(): void;
}

/**
 * Writes `file` as writePrivate does, keeping the old one (as a second link, FILE.PID.old) until
 * `done`, so that `undo` puts back exactly what was there, or no file, with no space needed.
 */
export function replacePrivate(file: string, text: string): Replaced {
  privateDir(dirname(file));
  refuseLink(file);
  const kept = `${file}.${process.pid}.old`;
  rmSync(kept, { force: true }); // this process's own, left by an earlier failure
  let had = true;
  try {
    linkSync(file, kept);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw wrap(file, e);
    had = false;
  }
  const done = () => rmSync(kept, { force: true });
  try {
    writePrivate(file, text);
  } catch (e) {
    done();
    throw e;
  }
  return {
    undo() {
      try {
        if (had) renameSync(kept, file);
        else rmSync(file, { force: true });
      } catch (e) {
        throw wrap(file, e);
      }
    },
    done,
  };
}

/** Opens `file` for appending, creating it 0600 (and making an older, wider one 0600); never follows a link. */
export function openPrivate(file: string): number {
  privateDir(dirname(file));
  let fd: number;
  try {
    fd = openSync(file, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW, FILE_MODE);
  } catch (e) {
    throw wrap(file, e);
  }
  try {
    fchmodSync(fd, FILE_MODE);
  } catch (e) {
    closeSync(fd);
    throw wrap(file, e);
  }
  return fd;
}

/** Appends `text` to `file` (see openPrivate). */
export function appendPrivate(file: string, text: string): void {
  const fd = openPrivate(file);
  try {
    writeFileSync(fd, text);
  } catch (e) {
    throw wrap(file, e);
  } finally {
    closeSync(fd);
  }
}

/**
 * Refuses when anything in the state folder `dir`, or in one of its folders, is a symbolic link
 * (a harness mirror's own files, one level deeper, are git's): checked before acting, so that a
 * refusal comes before anything was started.
 */
export function refuseLinks(dir: string): void {
  privateDir(dir);
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    refuseLink(path);
    if (entry.isDirectory()) for (const inner of readdirSync(path)) refuseLink(join(path, inner));
  }
}

/** A state write after the deed it records: when it fails, its one line says that the deed was done. */
export function recordDone(done: string, write: () => void): void {
  try {
    write();
  } catch (e) {
    if (!(e instanceof StateWriteError)) throw e;
    throw new UserError(`${done}, but that could not be recorded in ${e.file}: ${e.why}`);
  }
}
