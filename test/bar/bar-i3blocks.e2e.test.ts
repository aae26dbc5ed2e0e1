import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa, type ResultPromise } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { shellCommand } from "../../src/sway/config-file-syntax.js";
import { REPO, waitUntil } from "../helpers/daemons.js";
import { childPids, hasBinary, skipReason, stopProcess } from "../helpers/processes.js";

// `clanctl bar` (the entry point older bar configs name, which runs clan-bar-relay) under the real i3blocks 1.4,
// which needs no display: i3blocks reads the block's lines and writes the i3bar protocol, and reads i3bar's click
// events on its own stdin — which it also hands to a persistent block. The relay must leave that stream alone, or
// it would take the clicks of the other blocks.

const needs = ["i3blocks", "socat"];

describe.skipIf(!needs.every(hasBinary))(`clanctl bar in i3blocks ${skipReason(...needs)}`, () => {
  let dir: string;
  let i3blocks: ResultPromise;
  let output = "";
  /** The blocks of every status line i3blocks wrote from `from` on (its output is the i3bar protocol). */
  const statuses = (from = 0): Record<string, unknown>[][] =>
    output
      .slice(from)
      .split("\n")
      .filter((line) => /^,?\[\{/.test(line))
      .map((line) => JSON.parse(line.replace(/^,/, "")) as Record<string, unknown>[]);
  const block = (name: string, from = 0) => statuses(from).map((blocks) => blocks.find((b) => b["name"] === name)).filter(Boolean);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "clan-i3blocks-"));
    // No clan-sessiond serves this socket: the block shows that it is not running, which is all this test needs.
    const clanctl = shellCommand(["env", `CLAN_BAR_SOCKET=${join(dir, "run", "bar.sock")}`, process.execPath, join(REPO, "bin", "clanctl.js")]);
    const config = [
      "[clan-desktop]",
      `command=${clanctl} bar --format i3blocks`,
      "interval=persist",
      "format=json",
      "",
      "[other]",
      "command=echo clicked $BLOCK_BUTTON",
      "interval=once",
    ].join("\n");
    await writeFile(join(dir, "i3blocks.conf"), `${config}\n`);
    i3blocks = execa("i3blocks", ["-c", join(dir, "i3blocks.conf")], { reject: false, stdin: "pipe" });
    i3blocks.stdout!.on("data", (chunk: Buffer) => {
      output += chunk.toString("utf8");
    });
  });

  afterAll(async () => {
    // i3blocks 1.4 leaves its persistent blocks running when it exits: they are stopped here, by their pids.
    const blocks = i3blocks?.pid === undefined ? [] : await descendants(i3blocks.pid);
    if (i3blocks) await stopProcess(i3blocks);
    for (const pid of blocks) {
      try {
        process.kill(pid, "SIGTERM");
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
      }
    }
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("shows the block that i3blocks 1.4 reads from the persistent command's lines", async () => {
    const [shown] = await waitUntil(() => {
      const found = block("clan-desktop");
      return found.length > 0 ? found : undefined;
    }, "the block in i3blocks' output", 15_000);
    expect(shown).toMatchObject({ instance: "clan-sessiond", full_text: "clan-sessiond not running", color: "#ff5555", urgent: true });
  });

  it("leaves i3bar's click stream to i3blocks: the other block still gets its clicks", async () => {
    await waitUntil(() => (block("other").length > 0 ? true : undefined), "the other block's first run", 15_000);
    for (let click = 0; click < 5; click++) {
      const before = output.length;
      const button = (click % 3) + 1;
      i3blocks.stdin!.write(`${click === 0 ? "[\n" : ","}{"name":"other","button":${button},"x":1,"y":1}\n`);
      await waitUntil(
        () => (block("other", before).some((b) => b!["full_text"] === `clicked ${button}`) ? true : undefined),
        `click ${click + 1} to reach the other block`,
        5000,
      );
    }
  });
});

async function descendants(pid: number): Promise<number[]> {
  const found: number[] = [];
  for (const child of await childPids(pid)) found.push(child, ...(await descendants(child)));
  return found;
}
