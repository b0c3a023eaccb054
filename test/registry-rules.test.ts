// Unit tests of the registry's rules, as tables: git ref names, "did you mean", locations, harness
// defaults. Pure and fast: `npm run mutate` runs this file first.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { homedir } from "node:os";
import { join } from "node:path";
import { expandLocation, harnessSpec } from "../src/registry/fleet.js";
import { refProblem } from "../src/registry/gitref.js";
import { closest, didYouMean } from "../src/common/suggest.js";

describe("harness defaults", () => {
  it("harnessSpec keeps a path, session and timeout the file gives", () => {
    const h = harnessSpec("x", {
      url: "u",
      up: ["a"],
      down: ["b"],
      path: "vendor/h",
      session: "s-{agent}",
      timeout_s: 7,
    });
    assert.deepEqual(h, {
      name: "x",
      url: "u",
      path: "vendor/h",
      up: ["a"],
      down: ["b"],
      session: "s-{agent}",
      timeoutMs: 7000,
    });
  });
});

describe("git ref rules", () => {
  const cases: [string, string | undefined][] = [
    ["v0.1.0", undefined],
    ["refs/heads/main", undefined],
    ["feature/x-1.2_3", undefined],
    ["deadbee", undefined],
    ["0123456789abcdef0123456789abcdef01234567", undefined],
    ["-x", "a ref cannot start with '-'"],
    ["a b", "a ref cannot contain spaces, control characters or any of ~ ^ : ? * [ \\"],
    ["a\tb", "a ref cannot contain spaces, control characters or any of ~ ^ : ? * [ \\"],
    ["a\x7fb", "a ref cannot contain spaces, control characters or any of ~ ^ : ? * [ \\"],
    ...["~", "^", ":", "?", "*", "[", "\\"].map((c): [string, string] => [
      `a${c}b`,
      "a ref cannot contain spaces, control characters or any of ~ ^ : ? * [ \\",
    ]),
    ["v1..2", "a ref cannot contain '..'"],
    ["a@{u}", "a ref cannot contain '@{'"],
    ["@", "'@' alone is not a ref"],
    ["a@b", undefined],
    ["x.", "a ref cannot end with '.' or '/'"],
    ["x/", "a ref cannot end with '.' or '/'"],
    ["/x", "a ref cannot start with '/' or contain '//'"],
    ["a//b", "a ref cannot start with '/' or contain '//'"],
    [".x", "no part of a ref can start with '.'"],
    ["a/.x", "no part of a ref can start with '.'"],
    ["x.lock", "no part of a ref can end with '.lock'"],
    ["x.lock/y", "no part of a ref can end with '.lock'"],
    ["a.b/c.d", undefined],
    ["abcdef", undefined],
    ["DEADBEEF", undefined],
  ];
  for (const [ref, why] of cases) it(JSON.stringify(ref), () => assert.equal(refProblem(ref), why));
});

describe("did you mean", () => {
  const cases: [string, string[], string | undefined][] = [
    ["enabeld", ["location", "enabled", "ref"], "enabled"],
    ["ENABLED", ["enabled"], "enabled"],
    ["a0", ["ao", "zz"], "ao"],
    ["owner", ["location", "harness", "ref", "enabled", "url"], undefined],
    ["ab", ["xy"], "xy"], // two edits: always within reach
    ["abc", ["xyz"], undefined],
    ["abcdefghi", ["abcxyzghi"], "abcxyzghi"], // 3 edits in 9 letters
    ["abcdefgh", ["abcxyzgh"], undefined], // 3 edits in 8 letters
    ["interval", ["interval_s", "interva"], "interva"],
    ["x", [], undefined],
  ];
  for (const [word, candidates, want] of cases)
    it(`${word} among ${candidates.join(",") || "nothing"}`, () => {
      assert.equal(closest(word, candidates), want);
      assert.equal(didYouMean(word, candidates), want ? ` (did you mean '${want}'?)` : "");
    });
});

describe("locations", () => {
  const cases: [string, string][] = [
    ["~", homedir()],
    ["~/a/b", join(homedir(), "a/b")],
    ["~a", "/base/~a"],
    ["/srv/x/../y", "/srv/y"],
    ["rel/x", "/base/rel/x"],
    ["../up", "/up"],
  ];
  for (const [loc, want] of cases) it(loc, () => assert.equal(expandLocation(loc, "/base"), want));
});

describe("did you mean: ties", () => {
  it("the first of equally close candidates wins", () => {
    assert.equal(closest("ab", ["ax", "ay"]), "ax");
    assert.equal(closest("ab", ["ay", "ax"]), "ay");
  });
});
