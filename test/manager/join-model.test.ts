import { describe, expect, it } from "vitest";
import { JoinModel, type JoinProcess } from "../../src/manager/join-job.js";
import { previewJoinLink } from "../../src/manager/join-presentation.js";

// The join page without GTK: what a pasted link says, which links are refused, and that only confirm() starts a
// join, of the link shown, with its output made safe.

class ScriptedJoin implements JoinProcess {
  private lineListeners: ((line: string) => void)[] = [];
  private exitListeners: ((code: number | null, error: string | undefined) => void)[] = [];
  onLine(listener: (line: string) => void): void {
    this.lineListeners.push(listener);
  }
  onExit(listener: (code: number | null, error: string | undefined) => void): void {
    this.exitListeners.push(listener);
  }
  print(line: string): void {
    for (const listener of this.lineListeners) listener(line);
  }
  exit(code: number): void {
    for (const listener of this.exitListeners) listener(code, undefined);
  }
}

function scriptedModel() {
  const started: string[] = [];
  const joins: ScriptedJoin[] = [];
  const model = new JoinModel((link) => {
    started.push(link);
    const join = new ScriptedJoin();
    joins.push(join);
    return join;
  });
  return { model, started, joins };
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
  it("starts nothing while a link is typed; confirm() joins exactly the link shown and follows its output", () => {
    const { model, started, joins } = scriptedModel();
    model.setText("clan://git+https://git.example.org/club/infra#alice");
    expect(started).toEqual([]);
    expect(model.view().canConfirm).toBe(true);
    model.confirm();
    expect(started).toEqual(["clan://git+https://git.example.org/club/infra#alice"]);
    expect(model.view().canConfirm).toBe(false);
    model.confirm();
    expect(started).toHaveLength(1);
    joins[0]!.print("Fetching \x1b]0;owned\x07 …");
    expect(model.view().job).toEqual({ kind: "running", link: "clan://git+https://git.example.org/club/infra#alice", lines: ["Fetching \\x1b]0;owned\\x07 …"] });
    joins[0]!.print("clanctl: cannot fetch");
    joins[0]!.exit(1);
    expect(model.view().job).toMatchObject({ kind: "failed", outcome: "clanctl: cannot fetch" });
    expect(model.view().canConfirm).toBe(true);
  });

  it("confirm() does nothing for a refused or empty link", () => {
    const { model, started } = scriptedModel();
    model.confirm();
    model.setText("clan://path:/etc");
    expect(model.view().canConfirm).toBe(false);
    model.confirm();
    expect(started).toEqual([]);
  });
});
