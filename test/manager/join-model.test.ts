import { describe, expect, it } from "vitest";
import { JoinModel, type JoinProcess } from "../../src/manager/join-job.js";
import { previewJoinLink, refusedByLinkSize } from "../../src/manager/join-presentation.js";
import type { FetchedJoin } from "../../src/shared/join-links/fetched-join.js";

// The join page without GTK: what a pasted link says, which links are refused, and that the join runs in its two
// steps only as the user presses them: fetch() fetches exactly the link shown, the fetched network's request is
// shown made safe, and only build() registers and builds exactly what was fetched; cancel() builds nothing.

class ScriptedJoin implements JoinProcess {
  private lineListeners: ((line: string) => void)[] = [];
  private exitListeners: ((code: number | null, error: string | undefined, stdout: string) => void)[] = [];
  onLine(listener: (line: string) => void): void {
    this.lineListeners.push(listener);
  }
  onExit(listener: (code: number | null, error: string | undefined, stdout: string) => void): void {
    this.exitListeners.push(listener);
  }
  print(line: string): void {
    for (const listener of this.lineListeners) listener(line);
  }
  exit(code: number, stdout = ""): void {
    for (const listener of this.exitListeners) listener(code, undefined, stdout);
  }
}

const LINK = "clan://git+https://git.example.org/club/infra#alice";

/** What clanctl join --fetch-only prints for a hostile network: a share of the user's home, names with escapes. */
const FETCHED: FetchedJoin = {
  link: LINK,
  flake: "git+https://git.example.org/club/infra",
  revision: "0123456789abcdef0123456789abcdef01234567",
  narHash: "sha256-cuFAPPEXsWn2pf1EvZ4Brb7XcUQ6NhpvO735d4/lFvg=",
  revisionDate: 0,
  storePath: "/nix/store/27vacxr5c0x741wm70f0zwvv7l4dzg45-source",
  name: "infra",
  workspace: "2:infra",
  colour: "#56b6c2",
  request: {
    machine: "alice",
    machines: [],
    attribute: "packages.x86_64-linux.alice",
    vm: null,
    notDescribed: "the flake has no configs.json",
    accessFrom: "vm.json",
    networkMode: "user",
    vpn: "unknown",
    shares: [{ tag: "home", source: "/home/user\u202e/\x1b]0;t\x07", readOnly: false }],
    forwards: [{ hostPort: 8080, guestPort: 80 }],
    syncedFolders: [],
    voice: null,
    adminMode: null,
    adminKeys: 0,
    inputs: [{ path: "tools\u001b[2J", source: "ssh://h/<b>x</b>", kinds: ["ssh"] }],
    hasLockFile: true,
  },
};

function scriptedModel() {
  const fetches: string[] = [];
  const builds: FetchedJoin[] = [];
  const processes: ScriptedJoin[] = [];
  const started = () => {
    const process = new ScriptedJoin();
    processes.push(process);
    return process;
  };
  const model = new JoinModel({
    fetch: (link) => {
      fetches.push(link);
      return started();
    },
    build: (fetched) => {
      builds.push(fetched);
      return started();
    },
  });
  return { model, fetches, builds, processes };
}

describe("join page preview", () => {
  it("shows where a link fetches from and warns of a loopback host", () => {
    const preview = previewJoinLink("clan://git+https://127.0.0.1:4443/club.git#alice");
    expect(preview).toMatchObject({
      kind: "ready",
      facts: [
        { title: "From", text: "127.0.0.1" },
        { title: "Source", text: "git+https://127.0.0.1:4443/club.git" },
        { title: "Revision", text: "the newest commit of the default branch" },
        { title: "Machine", text: "alice" },
      ],
      warnings: ["the host 127.0.0.1 is this computer (loopback)"],
    });
  });

  it("refuses a link handed to the window by its real size, before reading it, and previews one that fits", () => {
    expect(refusedByLinkSize(2048)).toBeUndefined();
    expect(refusedByLinkSize(100_031)).toBe("refused join link: it is 100031 bytes long; a join link has at most 2048 characters, all ASCII");
    const { model, fetches } = scriptedModel();
    model.setText(LINK);
    model.refuse(refusedByLinkSize(2049)!);
    expect(model.view()).toMatchObject({ text: "", preview: { kind: "refused", reason: expect.stringContaining("it is 2049 bytes long") }, canFetch: false });
    model.fetch(LINK);
    expect(fetches).toEqual([]);
  });

  it("refuses local sources, overlong links and markup, and warns of punycode look-alikes", () => {
    expect(previewJoinLink("clan://path:/home/user")).toMatchObject({ kind: "refused", reason: expect.stringContaining("may not name a directory") });
    expect(previewJoinLink("clan://git+file:///srv/club")).toMatchObject({ kind: "refused" });
    expect(previewJoinLink(`clan://git+https://example.org/${"a".repeat(3000)}`)).toMatchObject({ kind: "refused", reason: expect.stringContaining("at most 2048") });
    expect(previewJoinLink("clan://git+https://<b>x</b>")).toMatchObject({ kind: "refused" });
    const lookalike = previewJoinLink("nix://https-xn--pypal-4ve.com/net");
    expect(lookalike.kind === "ready" && lookalike.warnings.join(" ")).toContain("xn--pypal-4ve.com");
    expect(previewJoinLink("  ")).toEqual({ kind: "empty" });
  });
});

describe("JoinModel", () => {
  it("fetches nothing while a link is typed; fetch() fetches exactly the link shown, and shows what the network asks for made safe", () => {
    const { model, fetches, builds, processes } = scriptedModel();
    model.setText(LINK);
    expect(fetches).toEqual([]);
    expect(model.view().canFetch).toBe(true);
    model.fetch(LINK);
    expect(fetches).toEqual([LINK]);
    expect(model.view().canFetch).toBe(false);
    model.fetch(LINK);
    expect(fetches).toHaveLength(1);
    processes[0]!.print("Fetching \x1b]0;owned\x07 …");
    expect(model.view().job).toEqual({ kind: "fetching", link: LINK, lines: ["Fetching \\x1b]0;owned\\x07 …"] });
    processes[0]!.exit(0, JSON.stringify(FETCHED));
    const job = model.view().job;
    if (job.kind !== "fetched") throw new Error(`not fetched: ${job.kind}`);
    expect(job.request.shares).toEqual([
      { title: "Share", text: "/home/user\\u202e/\\x1b]0;t\\x07 (read-write, tag home): the VM boots only if your config grants it" },
    ]);
    expect(job.request.forwards).toEqual([{ title: "Forward", text: "host port 8080 to guest port 80" }]);
    expect(job.request.inputs).toEqual([{ title: "tools\\x1b[2J", text: "ssh://h/<b>x</b> [ssh]" }]);
    expect(job.request.facts).toContainEqual({ title: "Network mode", text: "user (as the flake's vm.json asks)" });
    expect(JSON.stringify(job.request)).not.toMatch(/[\u0000-\u001f\u202e]/);
    // Nothing is built until the second button, and Fetch waits for the answer.
    expect(builds).toEqual([]);
    expect(model.view().canFetch).toBe(false);

    model.build();
    expect(builds).toEqual([FETCHED]);
    expect(model.view().job).toMatchObject({ kind: "building" });
    model.build();
    expect(builds).toHaveLength(1);
    processes[1]!.print("infra: generation 1 is running on workspace 2:infra");
    processes[1]!.exit(0);
    expect(model.view().job).toMatchObject({ kind: "done", step: "build", outcome: "infra: generation 1 is running on workspace 2:infra" });
    expect(model.view().canFetch).toBe(true);
  });

  it("cancel() at the second question builds nothing and forgets what was fetched", () => {
    const { model, builds, processes } = scriptedModel();
    model.setText(LINK);
    model.fetch(LINK);
    processes[0]!.exit(0, JSON.stringify(FETCHED));
    model.cancel();
    expect(model.view().job).toEqual({ kind: "cancelled", link: LINK });
    model.build();
    expect(builds).toEqual([]);
    expect(model.view().canFetch).toBe(true);
  });

  it("a link changed after the fetch drops what was fetched: the request shown is always the link's", () => {
    const { model, builds, processes } = scriptedModel();
    model.setText(LINK);
    model.fetch(LINK);
    processes[0]!.exit(0, JSON.stringify(FETCHED));
    model.setText("clan://git+https://git.example.org/other#alice");
    expect(model.view().job).toEqual({ kind: "idle" });
    model.build();
    expect(builds).toEqual([]);
  });

  it("a failed fetch, or one that printed no description, is shown and cannot be built", () => {
    const { model, builds, processes } = scriptedModel();
    model.setText(LINK);
    model.fetch(LINK);
    processes[0]!.print("clanctl: cannot fetch");
    processes[0]!.exit(1);
    expect(model.view().job).toMatchObject({ kind: "failed", step: "fetch", outcome: "clanctl: cannot fetch" });
    model.fetch(LINK);
    processes[1]!.exit(0, '{"link": "x"}');
    expect(model.view().job).toMatchObject({ kind: "failed", step: "fetch", outcome: expect.stringContaining("printed no description") });
    model.build();
    expect(builds).toEqual([]);
  });

  it("fetch() does nothing for a refused or empty link", () => {
    const { model, fetches } = scriptedModel();
    model.fetch("");
    model.setText("clan://path:/etc");
    expect(model.view().canFetch).toBe(false);
    model.fetch("clan://path:/etc");
    expect(fetches).toEqual([]);
  });

  it("fetch() of a link no longer in the entry (a press before the page showed the new one) fetches nothing", () => {
    const { model, fetches } = scriptedModel();
    model.setText(LINK);
    const handedOver = "clan://git+https://git.example.org/other#alice";
    model.setText(handedOver);
    model.fetch(LINK);
    expect(fetches).toEqual([]);
    expect(model.view().job).toEqual({ kind: "idle" });
    model.fetch(handedOver);
    expect(fetches).toEqual([handedOver]);
  });
});
