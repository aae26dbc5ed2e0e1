import { existsSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UnsafeCommandArgumentError } from "../../src/sway/command-syntax.js";
import { addMark, criteria, focusWorkspace, moveToWorkspace, setTitleFormat } from "../../src/sway/commands.js";
import { IpcClient } from "../../src/sway/ipc/client.js";
import { walkTree, type TreeNode } from "../../src/sway/ipc/messages/get-tree.js";
import { WM_KINDS, canOpenWindows, type WmUnderTest } from "./wm-under-test.js";

// Names are data: on real sway and real i3, a hostile name becomes exactly one workspace (or mark) with exactly
// that name, and none of the commands hidden in it runs. A victim window is moved through every hostile
// workspace: an injected `kill` would hit it (criteria apply to every command chained with ','), an injected
// `exec touch` would create the canary file.

const CANARY = `/tmp/clan-pwned-${process.pid}`;

const HOSTILE_NAMES = [
  `x"; exec touch ${CANARY}; "`,
  `x'; exec touch ${CANARY}; '`,
  `x\\"; exec touch ${CANARY}; \\"`,
  "a, kill",
  "a; kill",
  `b; [title=".*"] kill`,
  "]\\\"[ {}",
  "back\\slash\\\\",
  "ünïcödé 😀 名前",
  "  spaced  out  ",
  "number 7, kill",
  "%title %app_id <b>&amp;",
  `it's "both"; exec touch ${CANARY}`,
  `dollar $mod; exec touch ${CANARY}`,
];

const ALWAYS_REJECTED = ["a\nexec touch " + CANARY, "x".repeat(10_000), "next", "__i3_scratch", "a\u0000b"];

for (const kind of WM_KINDS) {
  const canRun = kind.skip === "" && canOpenWindows(kind);
  const why = kind.skip || (canOpenWindows(kind) ? "" : ` [skipped: ${kind.windowProgram} not installed]`);

  describe.skipIf(!canRun)(`hostile names on real ${kind.name}${why}`, () => {
    let wm: WmUnderTest;
    let client: IpcClient;
    let victim: TreeNode;

    const findVictim = async (): Promise<TreeNode | undefined> =>
      [...walkTree(await client.getTree())].find((node) => node.id === victim.id);

    beforeAll(async () => {
      wm = await kind.start();
      client = await IpcClient.connect({ discover: wm.discover });
      const events = await client.subscribe(["window"]);
      const window = wm.openWindow();
      for (;;) {
        const item = await events.next(10_000);
        if (item.kind === "window" && item.event.change === "new" && window.isIt(item.event.container)) {
          victim = item.event.container;
          break;
        }
      }
      events.close();
    });
    afterAll(async () => {
      client?.close();
      await wm?.stop();
    });

    const accepted = HOSTILE_NAMES.filter((name) => {
      try {
        focusWorkspace(name, kind.name);
        return true;
      } catch (error) {
        if (error instanceof UnsafeCommandArgumentError) return false;
        throw error;
      }
    });

    it("accepts every hostile name the WM can express exactly (sway: no $, not both quote kinds)", () => {
      const expectedRejections =
        kind.name === "sway" ? HOSTILE_NAMES.filter((name) => name.includes("$") || (name.includes('"') && name.includes("'"))) : [];
      expect(HOSTILE_NAMES.filter((name) => !accepted.includes(name))).toEqual(expectedRejections);
    });

    it.each(accepted)("%j names exactly one workspace and runs nothing hidden in it", async (name) => {
      await client.runCommand(moveToWorkspace({ conId: victim.id }, name, kind.name));
      await client.runCommand(focusWorkspace(name, kind.name));
      const workspaces = await client.getWorkspaces();
      expect(workspaces.filter((workspace) => workspace.name === name)).toHaveLength(1);
      expect(workspaces.find((workspace) => workspace.focused)?.name).toBe(name);
      // Only the victim's workspace exists: no stray workspace was created from a piece of the name.
      expect(workspaces.map((workspace) => workspace.name)).toEqual([name]);

      // The workspace criterion matches the same name exactly (it is a regex on both WMs).
      await client.runCommand(`${criteria({ workspace: name }, kind.name)} mark --add found`);
      expect((await findVictim())?.marks).toContain("found");
    });

    it.each(accepted)("%j is kept exactly as a mark, and found again by an exact con_mark criterion", async (name) => {
      await client.runCommand(addMark({ conId: victim.id }, name, kind.name));
      expect(await client.getMarks()).toContain(name);
      await client.runCommand(`${criteria({ mark: name }, kind.name)} mark --add matched-by-mark`);
      expect((await findVictim())?.marks).toContain("matched-by-mark");
    });

    it.each(HOSTILE_NAMES.filter((name) => !name.includes("\n")))("%j is accepted as a title prefix", async (label) => {
      await client.runCommand(setTitleFormat({ conId: victim.id }, { label, background: "#224488", foreground: "#ffffff" }, kind.name));
    });

    it.each(ALWAYS_REJECTED.map((name) => [JSON.stringify(name.slice(0, 40)), name]))("rejects %s before it reaches the WM", (_label, name) => {
      expect(() => focusWorkspace(name, kind.name)).toThrow(UnsafeCommandArgumentError);
    });

    it("left the victim window alive and never created the canary file", async () => {
      // exec is asynchronous: give a command that slipped through time to run.
      await sleep(300);
      expect(existsSync(CANARY)).toBe(false);
      expect(await findVictim()).toBeDefined();
    });
  });
}
