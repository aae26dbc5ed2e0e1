import { createInterface, type Interface } from "node:readline";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { execa, type ResultPromise } from "execa";
import { REPO } from "./daemons.js";
import { collectOutput, stopProcess, waitFor } from "./processes.js";

// What a GTK application shows, read as a screen reader reads it: the AT-SPI accessibility tree. The user's
// session bus gets an accessibility bus (at-spi-bus-launcher, as a desktop session starts it), and a probe
// (atspi-probe.ts) runs as the user, because that bus admits only its owner; the test sends it commands and
// searches the tree snapshots it returns.

export interface AccessibleNode {
  role: string;
  name: string;
  states: string[];
  actions: string[];
  children: AccessibleNode[];
}

/** A node found in a snapshot, with its path of child indices from the application, for actions on it. */
export interface Found {
  node: AccessibleNode;
  path: number[];
}

export interface DesktopUser {
  uid: number;
  gid: number;
}

export interface AccessibilityBus {
  /** Reads the application's tree now. */
  tree(app: string): Promise<AccessibleNode>;
  /** Runs one of the node's actions ("click" for a button). */
  act(app: string, found: Found, action: string): Promise<void>;
  /** Where the node is inside its window, in pixels (AT-SPI's window coordinates). */
  extents(app: string, found: Found): Promise<{ x: number; y: number; width: number; height: number }>;
  stop(): Promise<void>;
}

/** Starts the accessibility bus on the user's session bus and the probe that reads it. */
export async function startAccessibilityBus(user: DesktopUser, env: Record<string, string>): Promise<AccessibilityBus> {
  // In a process group of its own: the bus and registry it starts hold its output pipes, and end with the group.
  const launcher = execa("setpriv", [`--reuid=${user.uid}`, `--regid=${user.gid}`, "--init-groups", "/usr/libexec/at-spi-bus-launcher", "--launch-immediately"], {
    cwd: REPO,
    env,
    extendEnv: false,
    reject: false,
    detached: true,
  });
  const launcherOutput = collectOutput(launcher);
  await waitFor(`at-spi-bus-launcher to own org.a11y.Bus\n${launcherOutput()}`, async () => {
    if (launcher.exitCode !== null) throw new Error(`at-spi-bus-launcher exited (${launcher.exitCode}):\n${launcherOutput()}`);
    const names = await execa("busctl", ["--address", env["DBUS_SESSION_BUS_ADDRESS"] ?? "", "list", "--no-legend"], { reject: false });
    return names.stdout.includes("org.a11y.Bus") ? true : undefined;
  }, 20_000);
  const probe: ResultPromise = execa(
    "setpriv",
    [`--reuid=${user.uid}`, `--regid=${user.gid}`, "--init-groups", process.execPath, "--import", "tsx", join(REPO, "test", "helpers", "atspi-probe.ts")],
    { cwd: REPO, env, extendEnv: false, reject: false, stdin: "pipe", stdout: "pipe", stderr: "pipe" },
  );
  const probeErrors = collectOutput(probe);
  const replies: Interface = createInterface({ input: probe.stdout! });
  const pending: ((line: string) => void)[] = [];
  replies.on("line", (line) => pending.shift()?.(line));
  let queue = Promise.resolve();
  const ask = <T>(command: Record<string, unknown>): Promise<T> => {
    const answer = queue.then(
      () =>
        new Promise<T>((resolve, reject) => {
          if (probe.exitCode !== null) return reject(new Error(`the AT-SPI probe exited:\n${probeErrors()}`));
          pending.push((line) => {
            const reply = JSON.parse(line) as T & { error?: string };
            if (reply.error !== undefined) reject(new Error(`AT-SPI ${String(command["op"])}: ${reply.error}`));
            else resolve(reply);
          });
          probe.stdin!.write(`${JSON.stringify(command)}\n`);
        }),
    );
    queue = answer.then(() => undefined, () => undefined);
    return answer;
  };
  return {
    tree: async (app) => (await ask<{ tree: AccessibleNode }>({ op: "tree", app })).tree,
    act: async (app, found, action) => {
      await ask({ op: "action", app, path: found.path, action });
    },
    extents: async (app, found) => (await ask<{ extents: { x: number; y: number; width: number; height: number } }>({ op: "extents", app, path: found.path })).extents,
    async stop() {
      probe.stdin?.end();
      await stopProcess(probe);
      await stopGroup(launcher);
    },
  };
}

async function stopGroup(leader: ResultPromise): Promise<void> {
  const signal = (name: NodeJS.Signals) => {
    try {
      process.kill(-leader.pid!, name);
    } catch (error) {
      // ESRCH: the group has ended already.
      if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
    }
  };
  signal("SIGTERM");
  const ended = await Promise.race([leader.then(() => true), sleep(3000).then(() => false)]);
  if (!ended) signal("SIGKILL");
  await leader;
}

/** Every node (depth first) for which `predicate` holds, skipping subtrees that are not visible. */
export function findAll(root: AccessibleNode, predicate: (node: AccessibleNode) => boolean, path: number[] = []): Found[] {
  if (path.length > 0 && !root.states.includes("visible")) return [];
  const here = predicate(root) ? [{ node: root, path }] : [];
  return [...here, ...root.children.flatMap((child, index) => findAll(child, predicate, [...path, index]))];
}

export function findOne(root: AccessibleNode, what: string, predicate: (node: AccessibleNode) => boolean): Found {
  const found = findAll(root, predicate);
  if (found.length !== 1) throw new Error(`expected one ${what} on screen, found ${found.length}:\n${outline(root)}`);
  return found[0]!;
}

/** The node at `path` below `from`. */
export function below(from: Found, predicate: (node: AccessibleNode) => boolean, what: string): Found {
  const found = findAll(from.node, predicate, []).map((inner) => ({ node: inner.node, path: [...from.path, ...inner.path] }));
  if (found.length === 0) throw new Error(`no ${what} under ${from.node.role} ${JSON.stringify(from.node.name)}:\n${outline(from.node)}`);
  return found[0]!;
}

/** The texts of the labels on screen under a node, in order. */
export function texts(node: AccessibleNode): string[] {
  return findAll(node, (inner) => inner.role === "label" && inner.name !== "").map((found) => found.node.name);
}

/** The tree as indented lines of role and name, for failure messages. */
export function outline(node: AccessibleNode, depth = 0): string {
  if (depth > 0 && !node.states.includes("visible")) return "";
  const line = `${"  ".repeat(depth)}${node.role} ${JSON.stringify(node.name)}${node.states.includes("sensitive") ? "" : " (insensitive)"}\n`;
  return line + node.children.map((child) => outline(child, depth + 1)).join("");
}
