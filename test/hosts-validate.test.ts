// fleet.toml's [hosts] and a project's host: what validates, what each mistake says (table-driven),
// how remote locations are kept, and how a remote command line is quoted (checked by a real sh).
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadFleet } from "../src/registry/fleet.js";
import { deepProblems } from "../src/registry/validate-deep.js";
import { formatProblem } from "../src/common/problems.js";
import { remoteCommand, sshArgs } from "../src/remote/ssh.js";

const HEAD = `version = 1

[hosts.gpu]
ssh = "ops@gpu.example.org"
po = ["/opt/po/bin/po"]

[hosts.edge]
ssh = "edge"

[harnesses.h]
url = "/srv/harness"
up = ["up"]
down = ["down"]
`;

const project = (name: string, fields: string) => `\n[projects.${name}]\nharness = "h"\nref = "v1"\n${fields}\n`;

async function problems(body: string): Promise<string[]> {
  const loaded = await loadFleet("/fleet/fleet.toml", HEAD + body);
  return loaded.problems.map((p) => formatProblem(p).replace(/^\/fleet\/fleet\.toml:\d+:\d+: /, ""));
}

describe("fleet.toml with hosts", () => {
  it("normalizes hosts and keeps a remote location as written for its host", async () => {
    const body =
      project("a", `host = "gpu"\nlocation = "~/work/a/"`) +
      project("b", `host = "edge"\nlocation = "/srv//b"`) +
      project("c", `location = "c"`) +
      project("d", `host = "edge"\nlocation = "~"`) +
      project("e", `host = "gpu"\nlocation = "/"`);
    const { fleet, problems: found } = await loadFleet("/fleet/fleet.toml", HEAD + body);
    assert.deepEqual(found, []);
    assert.deepEqual(fleet!.hosts, [
      { name: "edge", ssh: "edge", po: ["po"] },
      { name: "gpu", ssh: "ops@gpu.example.org", po: ["/opt/po/bin/po"] },
    ]);
    assert.deepEqual(
      fleet!.projects.map((p) => [p.name, p.host, p.location]),
      [
        ["a", "gpu", "~/work/a"],
        ["b", "edge", "/srv/b"],
        ["c", undefined, "/fleet/c"],
        ["d", "edge", "~"],
        ["e", "gpu", "/"],
      ],
    );
  });

  const cases: [string, string, string[]][] = [
    [
      "an undeclared host, with a suggestion",
      project("a", `host = "gpus"\nlocation = "/srv/a"`),
      ["projects.a.host: host 'gpus' is not declared (did you mean 'gpu'?)"],
    ],
    [
      "an undeclared host, without one",
      project("a", `host = "zzzzzz"\nlocation = "/srv/a"`),
      [`projects.a.host: host 'zzzzzz' is not declared; declare it as [hosts.zzzzzz] with ssh = "DESTINATION"`],
    ],
    [
      "a relative location on a host",
      project("a", `host = "gpu"\nlocation = "srv/a"`),
      ["projects.a.location: 'srv/a' is relative, but a project on host gpu needs an absolute or ~/… location there"],
    ],
    [
      "two projects at one location of one host",
      project("a", `host = "gpu"\nlocation = "/srv/x"`) + project("b", `host = "gpu"\nlocation = "/srv/x/"`),
      ["projects.b.location: same location as project 'a' (/srv/x): one repository; each project needs its own folder"],
    ],
    [
      "a project inside another on one host, compared as written there",
      project("a", `host = "gpu"\nlocation = "~/work/a"`) + project("d", `host = "gpu"\nlocation = "~"`),
      ["projects.a.location: ~/work/a is inside project 'd' (~); projects cannot nest"],
    ],
    [
      "session names that collide on one host",
      project("a", `host = "gpu"\nlocation = "/srv/one/x"`) + project("b", `host = "gpu"\nlocation = "~/x"`),
      [
        "projects.b.location: its agents would get the same tmux session names as project 'a' (x-{agent}, from " +
          "/srv/one/x and ~/x); rename one folder or give the harness a session template that tells them apart",
      ],
    ],
    [
      "a destination that would be read as an ssh option",
      `\n[hosts.bad]\nssh = "-oProxyCommand=x"\n`,
      [
        `hosts.bad.ssh: invalid value "-oProxyCommand=x": The OpenSSH destination: user@host, host, or an alias ` +
          `of the operator's ssh config (which may set port, key and jump host); no spaces, and not starting with '-'.`,
      ],
    ],
  ];
  for (const [what, body, want] of cases)
    it(`refuses ${what}`, async () => {
      const got = await problems(body);
      assert.deepEqual(got, want);
    });

  it("allows one location and one folder name on different hosts, and here", async () => {
    const body =
      project("a", `host = "gpu"\nlocation = "/srv/x"`) +
      project("b", `host = "edge"\nlocation = "/srv/x"`) +
      project("c", `location = "/srv/x"`);
    assert.deepEqual(await problems(body), []);
  });
});

describe("po validate --deep and hosts", () => {
  it("looks at this machine's projects here and hands the others to their hosts, by project name", async () => {
    const dir = mkdtempSync(join(tmpdir(), "po-hosts-deep-"));
    try {
      const notRepo = join(dir, "plain");
      const file = join(dir, "fleet.toml");
      const body = project("there", `host = "gpu"\nlocation = "${dir}"`) + project("here", `location = "${notRepo}"`);
      writeFileSync(file, HEAD + body);
      const { fleet } = await loadFleet(file);
      // the local folder exists and is no repository; the remote one's path exists here too, and is not looked at
      writeFileSync(notRepo, "");
      const asked: string[] = [];
      const found = await deepProblems(fleet!, async (there) => {
        asked.push(...there.map((p) => `${p.name}@${p.host}:${p.location}`));
        return [{ project: "there", message: "on host gpu: said by its po" }];
      });
      assert.deepEqual(asked, [`there@gpu:${dir}`]);
      assert.deepEqual(
        found.map((p) => `${p.line}: ${p.path}: ${p.message}`),
        [`21: projects.here: ${notRepo} is not a git repository`, `15: projects.there: on host gpu: said by its po`],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the remote command line", () => {
  it("quotes every argv word for the remote shell: sh gets exactly the words back", () => {
    const words = ["a b", "it's", "$(touch /tmp/po-never)", "`x`", "semi;colon", "~", "*", "", 'd"q', "new\nline"];
    const r = spawnSync("sh", ["-c", remoteCommand(["printf", "%s|", ...words])], { encoding: "utf8" });
    assert.equal(r.stdout, words.map((w) => `${w}|`).join(""));
  });

  it("never prompts, keeps host-key checking as configured, and ends options before the destination", () => {
    const args = sshArgs({ name: "gpu", ssh: "ops@gpu", po: ["po"] }, ["po", "remote", "info"]);
    assert.deepEqual(args.slice(-4), ["-T", "--", "ops@gpu", "'po' 'remote' 'info'"]);
    assert.ok(args.includes("BatchMode=yes"));
    assert.ok(!args.some((a) => /StrictHostKeyChecking|UserKnownHostsFile/.test(a)));
  });
});
