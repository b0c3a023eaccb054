// Unit tests of editFleet on real files, in-process: the edit is validated before it is written,
// written in place (a symlink stays one, the mode is kept, no temporary file is left), under the
// fleet lock (released after each edit), and shown as a diff; a dry run and a no-op write nothing.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import {
  chmodSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { editFleet, setKey } from "../src/registry/edit-fleet.js";
import { UserError } from "../src/common/problems.js";
import { StateWriteError, type Replaced } from "../src/state/private.js";

const TMP = mkdtempSync(join(tmpdir(), "po-edit-fleet-"));
after(() => rmSync(TMP, { recursive: true, force: true }));

const FLEET = `version = 1

[harnesses.h]
url = "u"
up = ["u"]
down = ["d"]

[projects.a]
location = "a"
harness = "h"
ref = "v1"
enabled = true
`;
const DISABLED = FLEET.replace("enabled = true", "enabled = false");
const disable = (s: string) => setKey(s, ["projects", "a"], "enabled", false);

/** A folder of its own holding fleet.toml with FLEET; returns the file. */
function fleetIn(name: string): string {
  const dir = join(TMP, name);
  mkdirSync(dir);
  writeFileSync(join(dir, "fleet.toml"), FLEET);
  return join(dir, "fleet.toml");
}

describe("editFleet", () => {
  it("writes the edit and returns it with its diff: a ---/+++ header and two lines of context", async () => {
    const file = fleetIn("write");
    const r = await editFleet(file, disable);
    const hunk = `@@ -10,3 +10,3 @@\n harness = "h"\n ref = "v1"\n-enabled = true\n+enabled = false\n`;
    const diff = `--- ${file}\n+++ ${file}\n${hunk}`;
    assert.deepEqual(r, { changed: true, diff, before: FLEET, after: DISABLED });
    assert.equal(readFileSync(file, "utf8"), DISABLED);
    // nothing left beside it: no temporary file, and the lock is released (its folder keeps only .gitignore)
    assert.deepEqual(readdirSync(join(TMP, "write")).sort(), [".ao-state", "fleet.toml"]);
    assert.deepEqual(readdirSync(join(TMP, "write", ".ao-state")), [".gitignore"]);
    const again = await editFleet(file, (s) => setKey(s, ["projects", "a"], "ref", "v2"));
    assert.equal(again.after, DISABLED.replace('ref = "v1"', 'ref = "v2"'), "a second edit gets the lock at once");
  });

  it("a dry run returns the same diff and touches nothing, not even the state folder", async () => {
    const file = fleetIn("dry");
    const ino = statSync(file).ino;
    const r = await editFleet(file, disable, false);
    assert.deepEqual([r.changed, r.after], [true, DISABLED]);
    assert.match(r.diff, /^--- .*\n\+\+\+ .*\n@@ -10,3 \+10,3 @@\n/);
    assert.deepEqual([readFileSync(file, "utf8"), statSync(file).ino], [FLEET, ino]);
    assert.deepEqual(readdirSync(join(TMP, "dry")), ["fleet.toml"]);
  });

  it("an edit that changes nothing writes nothing and has no diff", async () => {
    const file = fleetIn("same");
    const ino = statSync(file).ino;
    assert.deepEqual(await editFleet(file, (s) => s), { changed: false, diff: "", before: FLEET, after: FLEET });
    assert.equal(statSync(file).ino, ino, "the file was not replaced");
  });

  it("an edit that breaks the file is refused with each problem, and not written", async () => {
    const file = fleetIn("broken");
    await assert.rejects(
      editFleet(file, (s) => setKey(s, ["projects", "a"], "enabled", "yes")),
      (e: unknown) => {
        assert.ok(e instanceof UserError);
        assert.equal(
          e.message,
          `${file}:12:1: projects.a.enabled: must be true or false, not the string "yes" (this edit was not written)`,
        );
        return true;
      },
    );
    assert.equal(readFileSync(file, "utf8"), FLEET);
  });

  it("a symlinked fleet.toml stays a symlink, its target keeps its mode", async () => {
    const target = fleetIn("target");
    chmodSync(target, 0o640);
    const dir = join(TMP, "linked");
    mkdirSync(dir);
    const link = join(dir, "fleet.toml");
    symlinkSync(target, link);
    await editFleet(link, disable);
    assert.ok(lstatSync(link).isSymbolicLink());
    assert.equal(readlinkSync(link), target);
    assert.equal(readFileSync(target, "utf8"), DISABLED);
    assert.equal(statSync(target).mode & 0o777, 0o640);
    const left = readdirSync(join(TMP, "target")).filter((f) => f !== "fleet.toml" && f !== ".ao-state");
    assert.deepEqual(left, [], "no temporary file beside the target");
  });
});

describe("editFleet with a state write that must go first", () => {
  /** A `first` that records what it saw and what became of it. */
  function recorder(file: string, fail?: { first?: Error; undo?: Error }) {
    const seen: string[] = [];
    const first = (): Replaced => {
      seen.push(`first: ${readFileSync(file, "utf8") === FLEET ? "fleet.toml as it was" : "fleet.toml changed"}`);
      if (fail?.first) throw fail.first;
      return {
        undo: () => {
          seen.push("undo");
          if (fail?.undo) throw fail.undo;
        },
        done: () => seen.push("done"),
      };
    };
    return { seen, first };
  }

  it("is made before fleet.toml is written, and kept (done) once fleet.toml is", async () => {
    const file = fleetIn("first-ok");
    const r = recorder(file);
    await editFleet(file, disable, true, r.first);
    assert.deepEqual(r.seen, ["first: fleet.toml as it was", "done"]);
    assert.equal(readFileSync(file, "utf8"), DISABLED);
  });

  it("is not made by a dry run or by an edit that changes nothing", async () => {
    const file = fleetIn("first-none");
    const r = recorder(file);
    await editFleet(file, disable, false, r.first);
    await editFleet(file, (s) => s, true, r.first);
    assert.deepEqual(r.seen, []);
  });

  it("a state write that fails first leaves fleet.toml as it was, says so, and releases the lock", async () => {
    const file = fleetIn("first-fails");
    const r = recorder(file, { first: new StateWriteError("/s/inventory.json", "no space left on device") });
    await assert.rejects(editFleet(file, disable, true, r.first), (e: Error) => {
      assert.ok(e instanceof UserError);
      assert.equal(e.message, `could not write /s/inventory.json: no space left on device; ${file} was not changed`);
      return true;
    });
    assert.equal(readFileSync(file, "utf8"), FLEET);
    await editFleet(file, disable);
    assert.equal(readFileSync(file, "utf8"), DISABLED, "the lock was released");
  });

  it("any other failure of the first write is not dressed up: it is thrown as it is", async () => {
    const file = fleetIn("first-bug");
    const bug = new TypeError("a bug");
    const r = recorder(file, { first: bug });
    await assert.rejects(editFleet(file, disable, true, r.first), (e) => e === bug);
    assert.equal(readFileSync(file, "utf8"), FLEET);
  });

  /** fleet.toml that cannot be written: a folder where its temporary file would go. */
  function unwritable(name: string): string {
    const file = fleetIn(name);
    mkdirSync(`${file}.${process.pid}.tmp`);
    return file;
  }

  it("when fleet.toml cannot be written, the first write is undone and the error is fleet.toml's", async () => {
    const file = unwritable("undo");
    const r = recorder(file);
    await assert.rejects(editFleet(file, disable, true, r.first), (e: Error) => {
      assert.match(e.message, new RegExp(`^could not write ${file}: .*; it was not changed$`));
      return true;
    });
    assert.deepEqual(r.seen, ["first: fleet.toml as it was", "undo"]);
    assert.equal(readFileSync(file, "utf8"), FLEET);
  });

  it("an undo that fails too is told in the same line", async () => {
    const file = unwritable("undo-fails");
    const r = recorder(file, { undo: new Error("the old inventory is gone") });
    await assert.rejects(editFleet(file, disable, true, r.first), (e: Error) => {
      assert.ok(e instanceof UserError);
      assert.match(
        e.message,
        new RegExp(
          `^could not write ${file}: .*; it was not changed, but what po had written first is left ` +
            `\\(the old inventory is gone\\)$`,
        ),
      );
      return true;
    });
    assert.deepEqual(r.seen, ["first: fleet.toml as it was", "undo"]);
  });

  it("a state folder po may not write into (a link) refuses the edit before anything, saying fleet.toml is unchanged", async () => {
    const file = fleetIn("state-link");
    const elsewhere = join(TMP, "elsewhere");
    mkdirSync(elsewhere);
    symlinkSync(elsewhere, join(TMP, "state-link", ".ao-state"));
    await assert.rejects(editFleet(file, disable), (e: Error) => {
      assert.ok(e instanceof UserError);
      assert.match(e.message, new RegExp(`; ${file} was not changed$`));
      return true;
    });
    assert.equal(readFileSync(file, "utf8"), FLEET);
    assert.deepEqual(readdirSync(elsewhere), [], "nothing written through the link");
  });
});
