import { readFile } from "node:fs/promises";
import { loadExeca } from "../shared/lazy-execa.js";
import type { TreeNode } from "./ipc/messages/get-tree.js";
import type { WmDialect } from "./command-syntax.js";

// Which process owns a window, from what the host can vouch for. sway reports the pid of the Wayland client's
// socket (kernel credentials). i3 reports only the X11 window id; its _NET_WM_PID is set by the client, which
// is a process the host started (the viewer, the waypipe client), never the guest.

export async function windowPid(node: TreeNode, dialect: WmDialect): Promise<number | undefined> {
  if (dialect === "sway") return node.pid;
  if (typeof node.window !== "number") return undefined;
  const result = await (await loadExeca())("xprop", ["-id", String(node.window), "_NET_WM_PID"], { reject: false, timeout: 2000 });
  const match = /= (\d+)$/.exec(result.stdout.trim());
  return match ? Number(match[1]) : undefined;
}

/** The claimed pid among `pid` and its ancestors: a viewer may open its window from a child process. */
export async function claimedAncestor(pid: number, claimed: ReadonlySet<number>): Promise<number | undefined> {
  let current = pid;
  for (let depth = 0; depth < 8 && current > 1; depth++) {
    if (claimed.has(current)) return current;
    const stat = await readFile(`/proc/${current}/stat`, "utf8").catch(() => "");
    // The command name (field 2) may contain spaces and parentheses: parse after the last ')'.
    const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    if (!Number.isInteger(parent) || parent <= 0) return undefined;
    current = parent;
  }
  return undefined;
}
