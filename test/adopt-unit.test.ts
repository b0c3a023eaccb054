// Pure helpers of po import and forget: url normalisation, release tags, names, removing a table.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { nameFor, normalizeUrl, refFor } from "../src/observe/adopt.js";
import { compareVersions, newestTag, parseVersion } from "../reconcile/semver.js";
import { removeTable } from "../src/registry/edit-fleet.js";

describe("normalizeUrl: one form for the spellings of one repository", () => {
  const same: [string, string][] = [
    ["https://git.example.org/team/harness.git", "https://git.example.org/team/harness"],
    ["https://Git.Example.org/team/harness/", "https://git.example.org/team/harness"],
    ["ssh://git@host.example/team/harness.git", "git@host.example:team/harness"],
    ["ssh://host.example:2222/team/harness", "host.example:team/harness"],
    ["ssh://host/~/harness", "host:harness"],
    ["file:///srv/harness.git", "/srv/harness"],
    ["/srv/harness/", "/srv/harness.git"],
  ];
  for (const [a, b] of same) it(`${a} = ${b}`, () => assert.equal(normalizeUrl(a), normalizeUrl(b)));
  const different: [string, string][] = [
    ["https://host/a/harness", "https://host/b/harness"],
    ["https://host/team/harness", "http://host/team/harness"],
    ["git@host:team/harness", "git@other:team/harness"],
  ];
  for (const [a, b] of different) it(`${a} ≠ ${b}`, () => assert.notEqual(normalizeUrl(a), normalizeUrl(b)));
  it("a relative path is taken from the base folder", () =>
    assert.equal(normalizeUrl("../harness", "/srv/projects/one"), "/srv/projects/harness"));
});

describe("release tags", () => {
  const C = "0123456789abcdef0123456789abcdef01234567";
  const cases: [string[], string][] = [
    [["v0.1.0", "v0.2.0", "latest"], "v0.2.0"],
    [["v1.10.0", "v1.9.0"], "v1.10.0"],
    [["v2.0.0-rc.1", "v1.0.0"], "v1.0.0"],
    [["v2.0.0-rc.1", "v2.0.0-rc.2"], "v2.0.0-rc.2"],
    [["nightly", "stable"], C],
    [[], C],
  ];
  for (const [tags, want] of cases)
    it(`${JSON.stringify(tags)} → ${want === C ? "the commit" : want}`, () => assert.equal(refFor(C, tags), want));
  it("orders versions as semver does", () => {
    const order = [
      "0.9.9",
      "1.0.0-alpha",
      "1.0.0-alpha.1",
      "1.0.0-alpha.beta",
      "1.0.0-beta.2",
      "1.0.0-beta.11",
      "1.0.0",
    ];
    for (let i = 1; i < order.length; i++) {
      const [a, b] = [parseVersion(order[i - 1])!, parseVersion(order[i])!];
      assert.ok(compareVersions(a, b) < 0, `${order[i - 1]} < ${order[i]}`);
      assert.ok(compareVersions(b, a) > 0, `${order[i]} > ${order[i - 1]}`);
    }
    assert.equal(compareVersions(parseVersion("v1.2.3")!, parseVersion("1.2.3+build")!), 0);
  });
  it("is not fooled by tags that only look like versions", () => {
    for (const t of ["v1.2", "1.2.3.4", "v01.2.3", "release-1.2.3"]) assert.equal(parseVersion(t), undefined, t);
    assert.equal(newestTag(["v1.0.0-rc.1"]), undefined);
    assert.equal(newestTag(["v1.0.0-rc.1"], true), "v1.0.0-rc.1");
  });
});

describe("nameFor: a valid project name from a folder", () => {
  const cases: [string, string][] = [
    ["/x/My Project", "my-project"],
    ["/x/api.v2", "api.v2"],
    ["/x/__tmp", "tmp"],
    ["/x/Café", "caf"],
  ];
  for (const [dir, want] of cases) it(`${dir} → ${want}`, () => assert.equal(nameFor(dir), want));
});

describe("removeTable", () => {
  const src = `version = 1\n\n# alpha\n[projects.alpha]\nlocation = "a"\n\n# beta\n[projects.beta]\nlocation = "b"\n`;
  it("removes exactly the table, keeping comments around it", () => {
    assert.equal(
      removeTable(src, ["projects", "alpha"]),
      `version = 1\n\n# alpha\n\n# beta\n[projects.beta]\nlocation = "b"\n`,
    );
    assert.equal(
      removeTable(src, ["projects", "beta"]),
      `version = 1\n\n# alpha\n[projects.alpha]\nlocation = "a"\n\n# beta\n`,
    );
  });
  it("refuses a project written as an inline table or dotted keys, in one line", () => {
    for (const text of [`projects.alpha = { location = "a" }\n`, `[projects]\nalpha.location = "a"\n`])
      assert.throws(
        () => removeTable(text, ["projects", "alpha"]),
        /^Error: fleet\.toml has no \[projects\.alpha\] table.*by hand$/,
      );
  });
});
