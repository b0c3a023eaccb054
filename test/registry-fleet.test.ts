// Unit tests of fleet.toml's checks beyond the schema and of its normalization, in-process: each
// mistake is one problem (never a second one for what the schema already said), locations meet
// through symlinks, session templates decide collisions, and [rollout], notify and status reach the core.
import { after, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadFleet, requireFleet } from "../src/registry/fleet.js";
import { formatProblem } from "../src/common/problems.js";

const TMP = realpathSync(mkdtempSync(join(tmpdir(), "po-registry-fleet-")));
after(() => rmSync(TMP, { recursive: true, force: true }));

const H = `version = 1\n[harnesses.h]\nurl = "u"\nup = ["u"]\ndown = ["d"]\n`;
const project = (name: string, fields: string) => `[projects.${name}]\nref = "v1"\n${fields}\n`;

/** The problems of `text` as fleet.toml at /fleet/fleet.toml, without the file:line:col prefix. */
async function problems(text: string, file = "/fleet/fleet.toml"): Promise<string[]> {
  const loaded = await loadFleet(file, text);
  return loaded.problems.map((p) => formatProblem(p).replace(/^[^:]+:\d+:\d+: /, ""));
}

describe("one problem per mistake", () => {
  const cases: [string, string, string[]][] = [
    [
      "a host that is not a string",
      H + project("a", `location = "/srv/a"\nharness = "h"\nhost = 5`),
      ["projects.a.host: must be a string, not number 5"],
    ],
    [
      "a harness that is not a string",
      H + project("a", `location = "a"\nharness = 5`),
      ["projects.a.harness: must be a string, not number 5"],
    ],
    [
      "an empty location, beside a project in the fleet's folder",
      H + project("a", `location = ""\nharness = "h"`) + project("b", `location = "b"\nharness = "h"`),
      ["projects.a.location: must not be empty"],
    ],
    [
      "a file without [harnesses]",
      `version = 1\n${project("a", `location = "a"\nharness = "h"`)}`,
      ["projects.a.harness: harness 'h' is not declared; declare it as [harnesses.h]"],
    ],
    [
      "two undeclared harnesses, folders of one name: no session names to compare",
      H + project("a", `location = "/x/api"\nharness = "k"`) + project("b", `location = "/y/api"\nharness = "k"`),
      [
        "projects.a.harness: harness 'k' is not declared (did you mean 'h'?)",
        "projects.b.harness: harness 'k' is not declared (did you mean 'h'?)",
      ],
    ],
    [
      "a session template without {dir}: every project shares its names",
      H.replace('down = ["d"]', 'down = ["d"]\nsession = "po-{agent}"') +
        project("a", `location = "/x/a"\nharness = "h"`) +
        project("b", `location = "/y/b"\nharness = "h"`),
      [
        "projects.b.location: its agents would get the same tmux session names as project 'a' (po-{agent}, from " +
          "/x/a and /y/b); rename one folder or give the harness a session template that tells them apart",
      ],
    ],
    [
      "a union type",
      `${H}[rollout]\nwave = true\n`,
      ["rollout.wave: must be a whole number or a string, not boolean true"],
    ],
    [
      "a date where a string belongs",
      H + project("a", `location = "a"\nharness = "h"`).replace('ref = "v1"', "ref = 1979-05-27"),
      ["projects.a.ref: must be a string, not the date 1979-05-27"],
    ],
    [
      "a host name",
      `${H}[hosts."B!"]\nssh = "b"\n`,
      [
        "hosts.B!: invalid host name 'B!': use lowercase letters, digits, '.', '_' and '-', starting with a letter or digit",
      ],
    ],
  ];
  for (const [name, text, want] of cases) it(name, async () => assert.deepEqual(await problems(text), want));

  it("two locations that meet through a symlink, the second one not there yet", async () => {
    mkdirSync(join(TMP, "real"));
    symlinkSync(join(TMP, "real"), join(TMP, "link"));
    const [a, b] = [join(TMP, "real", "new"), join(TMP, "link", "new")];
    const text =
      H + project("a", `location = "${a}"\nharness = "h"`) + project("b", `location = "${b}"\nharness = "h"`);
    assert.deepEqual(await problems(text), [
      `projects.b.location: same location as project 'a' (${b}, through symlinks ${a}): one repository; ` +
        "each project needs its own folder",
    ]);
  });
});

describe("normalization", () => {
  it("[rollout], notify and a harness's status reach the desired state", async () => {
    const text =
      `notify = ["notify-send", "po"]\n${H}status = ["s", "--json"]\n` +
      `[rollout]\nwave = "25%"\ncanary = 1\nsettle_s = 30\nmax_failures = 2\nrevert = false\n` +
      project("a", `location = "a"\nharness = "h"`);
    const { fleet } = await requireFleet("/fleet/fleet.toml", text);
    assert.deepEqual(fleet.notify, ["notify-send", "po"]);
    assert.deepEqual(fleet.rollout, { wave: "25%", canary: 1, settleS: 30, maxFailures: 2, revert: false });
    assert.deepEqual(fleet.projects[0]!.harness.status, ["s", "--json"]);
  });

  it("without them, the desired state has no such keys", async () => {
    const { fleet } = await requireFleet("/fleet/fleet.toml", H + project("a", `location = "a"\nharness = "h"`));
    assert.deepEqual(Object.keys(fleet).sort(), ["path", "projects"]);
    assert.equal("status" in fleet.projects[0]!.harness, false);
  });
});
