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
