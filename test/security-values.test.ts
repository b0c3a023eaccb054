// Security, values are data: every url, path, location and argv element of fleet.toml and
// agents.toml that could reach git, tmux or exec as an option, a transport of the file's choosing
// or a control character is refused by the loader (so by po validate and every verb), one problem each.
import assert from "node:assert/strict";
import { test } from "node:test";
import { loadFleet } from "../src/registry/fleet.js";
import { loadToml } from "../src/registry/load-toml.js";
import { formatProblem } from "../src/common/problems.js";

const fleet = (harness: Record<string, string>, project: Record<string, string> = {}) => {
  const h = { url: '"https://example.invalid/h.git"', up: '["up"]', down: '["down"]', ...harness };
  const p = { location: '"p"', harness: '"h"', ref: '"v1"', ...project };
  const table = (name: string, kv: Record<string, string>) =>
    `[${name}]\n${Object.entries(kv)
      .map(([k, v]) => `${k} = ${v}`)
      .join("\n")}\n`;
  return `version = 1\n${table("harnesses.h", h)}${table("projects.p", p)}`;
};

async function problems(text: string, file = "/f/fleet.toml"): Promise<string[]> {
  const loaded = file.endsWith("agents.toml") ? await loadToml(file, "agents", text) : await loadFleet(file, text);
  return loaded.problems.map(formatProblem);
}

const q = JSON.stringify;
const REFUSED: [string, Record<string, string>, Record<string, string>, string][] = [
  ["url as an option", { url: q("--upload-pack=touch MARK") }, {}, "harnesses.h.url: cannot start with '-'"],
  ["url as a short option", { url: q("-utouch MARK") }, {}, "harnesses.h.url: cannot start with '-'"],
  ["url as the ext:: helper", { url: q("ext::sh -c touch% MARK") }, {}, "transport 'ext::' is not allowed"],
  ["url as the fd:: helper", { url: q("fd::3") }, {}, "transport 'fd::' is not allowed"],
  ["url naming any remote helper", { url: q("testgit::/tmp/x") }, {}, "transport 'testgit::' is not allowed"],
  [
    "url with an unknown scheme",
    { url: q("evil://host/x") },
    {},
    "harnesses.h.url: the transport 'evil://' is not allowed; use one of https, http, ssh, git, file, git+ssh, ssh+git",
  ],
  ["ssh host as an option", { url: q("ssh://-oProxyCommand=touch%20MARK/x") }, {}, "cannot start with '-'"],
  ["ssh user as an option", { url: q("ssh://-oProxyCommand=x@host/x") }, {}, "cannot start with '-'"],
  ["ssh host after a user as an option", { url: q("ssh://git@-oProxyCommand=x/h") }, {}, "host name in a url cannot"],
  ["scp-like host as an option", { url: q("-oProxyCommand=touch MARK:x") }, {}, "cannot start with '-'"],
  ["url with a NUL", { url: q("https://h/x\u0000y") }, {}, "cannot contain a NUL byte"],
  ["url with an escape", { url: q("https://h/\u001b[2Jx") }, {}, "control character (\\x1b)"],
  ["url with a newline", { url: q("https://h/x\ny") }, {}, "control character (\\x0a)"],
  ["empty up argument", { up: '[""]' }, {}, "harnesses.h.up.0: an argument cannot be an empty string"],
  ["empty down argument", { down: '["a", ""]' }, {}, "harnesses.h.down.1: an argument cannot be an empty string"],
  ["NUL in an argument", { up: q(["a\u0000b"]) }, {}, "harnesses.h.up.0: cannot contain a NUL byte"],
  ["path outside the project", { path: q("../x") }, {}, "cannot contain '..'"],
  ["path climbing back", { path: q("a/../../x") }, {}, "cannot contain '..'"],
  ["path in .git", { path: q(".git") }, {}, "in or under .git"],
  ["path under .git", { path: q(".git/modules/x") }, {}, "in or under .git"],
  ["path under a nested .GIT", { path: q("a/.GIT/x") }, {}, "in or under .git"],
  ["path not normalised", { path: q("a//b") }, {}, "must be normalised, like 'a/b'"],
  ["path with ./", { path: q("./engine") }, {}, "must be normalised, like 'engine'"],
  ["path with a trailing /", { path: q("engine/") }, {}, "must be normalised, like 'engine'"],
  [
    "path absolute and climbing (the schema's, said once)",
    { path: q("/x/../y") },
    {},
    "harnesses.h.path: invalid value",
  ],
  ["path '.'", { path: q(".") }, {}, "must be normalised, like 'engine'"],
  ["path './'", { path: q("./") }, {}, "must be normalised, like 'engine'"],
  ["path as an option", { path: q("-engine") }, {}, "harnesses.h.path: cannot start with '-'"],
  ["path with a tab", { path: q("en\tgine") }, {}, "control character (\\x09)"],
  ["session with a control character", { session: q("{dir}\u0007{agent}") }, {}, "control character (\\x07)"],
  ["location as an option", {}, { location: q("--help") }, "projects.p.location: cannot start with '-'"],
  ["location with a NUL", {}, { location: q("p\u0000q") }, "projects.p.location: cannot contain a NUL byte"],
  ["location with DEL", {}, { location: '"p\\u007f"' }, "control character (\\x7f)"],
  ["location with a C1 control", {}, { location: q("p\u009b2J") }, "control character (\\x9b)"],
  ["project url as an option", {}, { url: q("--upload-pack=x") }, "projects.p.url: cannot start with '-'"],
  ["project url as a helper", {}, { url: q("ext::sh") }, "projects.p.url: the remote-helper transport"],
  ["an empty harness path", { path: q("") }, {}, "harnesses.h.path: must not be empty"],
  ["an empty session template", { session: q("") }, {}, "harnesses.h.session: must not be empty"],
  ["a NUL in the session template", { session: q("{dir}\u0000") }, {}, "harnesses.h.session: cannot contain a NUL"],
  ["an empty status argument", { status: '["st", ""]' }, {}, "harnesses.h.status.1: an argument cannot be an empty"],
  ["a NUL in a status argument", { status: q(["s\u0000t"]) }, {}, "harnesses.h.status.0: cannot contain a NUL"],
  ["an empty harness name in a project", {}, { harness: q("") }, "projects.p.harness: must not be empty"],
  ["an empty ref", {}, { ref: q("") }, "projects.p.ref: must not be empty"],
  ["an empty project url", {}, { url: q("") }, "projects.p.url: must not be empty"],
  ["a NUL in a project url", {}, { url: q("https://h/\u0000") }, "projects.p.url: cannot contain a NUL byte"],
  // a host that is no name: not also "not declared", nor its relative location "needs an absolute one there"
  ["a NUL in the host", {}, { host: q("h\u0000") }, 'projects.p.host: invalid value "h\\u0000"'],
  ["an empty host", {}, { host: q("") }, "projects.p.host: must not be empty"],
  // a ref is git's to judge (gitref.ts), in one problem: never a second one from these rules
  ["ref with a control character", {}, { ref: q("v1\u0007") }, "projects.p.ref: invalid ref 'v1\u0007'"],
];

for (const [what, harness, project, expected] of REFUSED) {
  test(`fleet.toml refuses ${what}, in one problem`, async () => {
    const found = await problems(fleet(harness, project));
    assert.equal(found.length, 1, `one problem, not:\n${found.join("\n")}`);
    assert.match(found[0], /^\/f\/fleet\.toml:\d+:\d+: /);
    assert.ok(found[0].includes(expected), `${found[0]}\nshould say: ${expected}`);
  });
}

const ACCEPTED: [string, Record<string, string>, Record<string, string>][] = [
  ["https with a token", { url: q("https://x-access-token:T0K@example.com/h.git") }, {}],
  ["ssh", { url: q("ssh://git@example.com:2222/h.git") }, {}],
  ["scp-like", { url: q("git@example.com:team/h.git") }, {}],
  ["git://", { url: q("git://example.com/h.git") }, {}],
  ["http://", { url: q("http://example.com/h.git") }, {}],
  ["git+ssh:// and ssh+git://", { url: q("git+ssh://example.com/h.git"), path: q("e") }, { url: q("SSH+GIT://x/p") }],
  ["'::' after the start of a url", { url: q("https://example.com/odd::name.git") }, {}],
  ["a local path holding '://'", { url: q("/srv/mirrors/evil://h.git") }, {}],
  ["file://", { url: q("file:///srv/h.git") }, {}],
  ["an absolute path", { url: q("/srv/git/h") }, {}],
  ["a relative path", { url: q("../h") }, {}],
  ["a nested harness path", { path: q("vendor/engine") }, {}],
  ["a session template that is no path", { session: q("../{dir}//{agent}") }, {}],
  ["arguments with spaces, ';' and newlines", { up: q(["sh", "-c", "a; b\nc", "x y"]) }, {}],
  ["a location with spaces, ';' and '#'", {}, { location: q("my p;x#(y)") }],
];

for (const [what, harness, project] of ACCEPTED) {
  test(`fleet.toml accepts ${what}`, async () => {
    assert.deepEqual(await problems(fleet(harness, project)), []);
  });
}

test("agents.toml refuses empty or NUL arguments, control characters in a prompt, shared sessions", async () => {
  const text = [
    '[agents.a]\ncommand = ["x", ""]\nprompt = "p\\u001b.md"',
    '[agents.b]\ncommand = ["x\\u0000"]',
    '[agents."c.d"]\ncommand = ["x"]',
    '[agents.c_d]\ncommand = ["x"]',
    '[agents.e]\ncommand = ["x"]\nprompt = "-p.md"',
  ].join("\n");
  assert.deepEqual(await problems(text, "/f/agents.toml"), [
    "/f/agents.toml:2:17: agents.a.command.1: an argument cannot be an empty string",
    "/f/agents.toml:3:1: agents.a.prompt: cannot contain a control character (\\x1b)",
    "/f/agents.toml:5:12: agents.b.command.0: cannot contain a NUL byte",
    "/f/agents.toml:8:1: agents.c_d: agents 'c.d' and 'c_d' would share the tmux session '…-c_d' " +
      "(tmux turns '.' into '_'); rename one",
    "/f/agents.toml:12:1: agents.e.prompt: cannot start with '-' (git would read it as an option)",
  ]);
});

test("fleet.toml refuses an empty or NUL host destination or po argument, one problem each", async () => {
  const hosts = (ssh: string, po: string) => `[hosts.x]\nssh = ${ssh}\npo = ${po}\n`;
  for (const [text, expected] of [
    [hosts(q(""), '["po"]'), "/f/fleet.toml:3:1: hosts.x.ssh: must not be empty"],
    [hosts(q("a\u0000b"), '["po"]'), "/f/fleet.toml:3:1: hosts.x.ssh: cannot contain a NUL byte"],
    [hosts(q("a"), '[""]'), "/f/fleet.toml:4:7: hosts.x.po.0: must not be empty"],
    [hosts(q("a"), q(["p\u0000o"])), "/f/fleet.toml:4:7: hosts.x.po.0: cannot contain a NUL byte"],
  ]) {
    const text2 = fleet({}).replace("version = 1\n", `version = 1\n${text}`);
    assert.deepEqual(await problems(text2), [expected]);
  }
});

test("agents.toml refuses an empty or NUL prompt, an empty command, an empty or NUL notify argument", async () => {
  const agent = (extra: string) => `[agents.a]\ncommand = ["x"]\n${extra}`;
  for (const [text, expected] of [
    [agent('prompt = ""\n'), "/f/agents.toml:3:1: agents.a.prompt: must not be empty"],
    [agent(`prompt = ${q("p\u0000.md")}\n`), "/f/agents.toml:3:1: agents.a.prompt: cannot contain a NUL byte"],
    ["[agents.a]\ncommand = []\n", "/f/agents.toml:2:1: agents.a.command: must not be empty"],
    [
      `[watchdog]\nnotify = [""]\n${agent("")}`,
      "/f/agents.toml:2:11: watchdog.notify.0: an argument cannot be an empty string",
    ],
    [
      `[watchdog]\nnotify = ${q(["n\u0000"])}\n${agent("")}`,
      "/f/agents.toml:2:11: watchdog.notify.0: cannot contain a NUL byte",
    ],
  ]) {
    assert.deepEqual(await problems(text, "/f/agents.toml"), [expected]);
  }
});

test("each file's rules stay in it, and keys the schema refused get no second problem", async () => {
  const h = '[harnesses.h]\nurl = "u"\nup = ["u"]\ndown = ["d"]\n';
  const cases: [string, string, string[]][] = [
    [
      "/f/fleet.toml",
      `version = 1\n${h}[harnesses.h.extra]\npath = ".."\n`,
      ["harnesses.h.extra: unknown key 'extra'"],
    ],
    ["/f/fleet.toml", `version = 1\n${h}[bogus.x]\npath = ".."\n`, ["bogus: unknown key 'bogus'"]],
    ["/f/fleet.toml", `version = 1\n[agents."c.d"]\nx = 1\n[agents.c_d]\nx = 1\n`, ["agents: unknown key 'agents'"]],
    ["/f/agents.toml", `[harnesses.x]\npath = ".."\n`, ["harnesses: unknown key 'harnesses'"]],
    ["/f/fleet.toml", `version = 1\n[bogus]\nx = ""\ny = "-z"\nurl = "ext::x"\n`, ["bogus: unknown key 'bogus'"]],
    [
      "/f/agents.toml",
      `[agents.a]\ncommand = ["x"]\nextra = { prompt = "-x", n = ["", "\\u0000"] }\n`,
      ["agents.a.extra: unknown key 'extra'"],
    ],
  ];
  for (const [file, text, want] of cases)
    assert.deepEqual(
      (await problems(text, file)).map((p) => p.replace(/^\S+:\d+:\d+: /, "")),
      want,
      text,
    );
});

test("agents.toml accepts a prompt path with ';' and spaces", async () => {
  assert.deepEqual(await problems('[agents.a]\ncommand = ["x"]\nprompt = "my prompts/a; b.md"', "/f/agents.toml"), []);
});
