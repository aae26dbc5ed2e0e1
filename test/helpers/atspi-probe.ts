import { createInterface } from "node:readline";
import gi from "node-gtk";

// Runs as the desktop user (the accessibility bus admits only its owner) and answers one JSON line per command
// line on stdin, for test/helpers/accessibility.ts:
//   {"op":"tree","app":"clan-manager"}            → {"tree": AccessibleNode} (the application's accessibles)
//   {"op":"action","app":…,"path":[…],"action":"click"} → {"done": true}
//   {"op":"extents","app":…,"path":[…]}           → {"extents": {x, y, width, height}} (in its window)
// `path` is the child indices from the application down. Every failure is an {"error": "..."} line.

interface AccessibleNode {
  role: string;
  name: string;
  states: string[];
  actions: string[];
  children: AccessibleNode[];
}

/* eslint-disable @typescript-eslint/no-explicit-any */
const Atspi = gi.require("Atspi", "2.0");
Atspi.init();
const STATE_NAMES = ["SHOWING", "VISIBLE", "SENSITIVE", "ENABLED", "SELECTED", "FOCUSED", "CHECKED"] as const;
const MAX_NODES = 5000;

function application(name: string): any {
  const desktop = Atspi.getDesktop(0);
  desktop.clearCache();
  const names: string[] = [];
  for (let index = 0; index < desktop.getChildCount(); index++) {
    const app = desktop.getChildAtIndex(index);
    names.push(app?.getName() ?? "");
    if (app && app.getName() === name) {
      // The library caches what it read; the window changes under us, so every command reads afresh.
      app.clearCache();
      return app;
    }
  }
  throw new Error(`no application ${JSON.stringify(name)} on the accessibility bus (it has: ${JSON.stringify(names)})`);
}

function describe(node: any, budget: { left: number }): AccessibleNode {
  budget.left--;
  const stateSet = node.getStateSet();
  const states = STATE_NAMES.filter((state) => stateSet.contains(Atspi.StateType[state])).map((state) => state.toLowerCase());
  const children: AccessibleNode[] = [];
  for (let index = 0; index < node.getChildCount() && budget.left > 0; index++) {
    const child = node.getChildAtIndex(index);
    children.push(child ? describe(child, budget) : { role: "gone", name: "", states: [], actions: [], children: [] });
  }
  return { role: node.getRoleName(), name: node.getName() ?? "", states, actions: actionNames(node), children };
}

/** GTK lists an action count for some widgets (labels) whose names it then refuses: those count as none. */
function actionNames(node: any): string[] {
  const action = node.getActionIface();
  const names: string[] = [];
  for (let index = 0; action && index < action.getNActions(); index++) {
    try {
      names.push(action.getActionName(index));
    } catch {
      return names;
    }
  }
  return names;
}

function at(app: any, path: number[]): any {
  let node = app;
  for (const index of path) {
    node = node.getChildAtIndex(index);
    if (!node) throw new Error(`no accessible at ${JSON.stringify(path)}`);
  }
  return node;
}

function run(command: { op: string; app: string; path?: number[]; action?: string }): unknown {
  const app = application(command.app);
  if (command.op === "tree") return { tree: describe(app, { left: MAX_NODES }) };
  const node = at(app, command.path ?? []);
  if (command.op === "action") {
    const names = actionNames(node);
    const index = names.indexOf(command.action ?? "");
    if (index < 0) throw new Error(`${node.getRoleName()} ${JSON.stringify(node.getName())} has no action ${JSON.stringify(command.action)} (it has ${names.join(", ") || "none"})`);
    return { done: node.getActionIface().doAction(index) === true };
  }
  if (command.op === "extents") {
    const component = node.getComponentIface();
    if (!component) throw new Error(`${node.getRoleName()} ${JSON.stringify(node.getName())} has no extents`);
    const rect = component.getExtents(Atspi.CoordType.WINDOW);
    return { extents: { x: rect.x, y: rect.y, width: rect.width, height: rect.height } };
  }
  throw new Error(`unknown op ${JSON.stringify(command.op)}`);
}

for await (const line of createInterface({ input: process.stdin })) {
  let reply: unknown;
  try {
    reply = run(JSON.parse(line) as Parameters<typeof run>[0]);
  } catch (error) {
    reply = { error: error instanceof Error ? error.message : String(error) };
  }
  process.stdout.write(`${JSON.stringify(reply)}\n`);
}
