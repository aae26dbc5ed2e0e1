import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { crossRoomImports, importCycles, readModuleGraph, roomOf } from "./import-graph.js";

// The rooms of src/ follow the processes (docs/architecture.md): what a room may import is checked here, so a
// shortcut from one process's code into another's fails the unit suite instead of growing quietly.

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const graph = readModuleGraph(ROOT);

/** Which rooms each room may import from, besides itself. */
const ALLOWED: Record<string, string[]> = {
  shared: [],
  vmd: ["shared"],
  viewer: ["shared"],
  bar: ["shared"],
  manager: ["shared", "bar"],
  session: ["shared", "sway", "bar"],
  sway: ["shared", "session"],
  cli: ["shared", "session", "sway", "bar"],
};

describe("the module graph of src/", () => {
  it("reads the imports of every module (a check of the checker)", () => {
    expect(graph.imports.get("src/vmd/main.ts")).toContain("src/shared/errors.ts");
    expect(graph.lazyImports.get("src/cli/command-table.ts")).toContain("src/cli/join-command.ts");
    expect(importCycles(new Map([["a", ["b"]], ["b", ["a"]]]))).toEqual([["a", "b", "a"]]);
    expect(crossRoomImports(graph)).toContain("src/vmd/main.ts → src/shared/errors.ts");
  });

  // A cycle of import declarations makes one module run before the other has defined its exports. A lazy
  // import() runs after both have loaded (clanctl's command table loads each command's code when it runs), so
  // it is left out of this check.
  it("has no cycle of import declarations", () => {
    expect(importCycles(graph.imports)).toEqual([]);
  });

  it("has every room import only from the rooms it may", () => {
    const rooms = new Set([...graph.imports.keys()].map(roomOf));
    const known = [...rooms].filter((room) => room in ALLOWED);
    // The GNOME extension is compiled apart (its own tsconfig) and imports nothing of src/ outside it.
    expect(new Set([...rooms].filter((room) => !known.includes(room)))).toEqual(new Set(["gnome-extension"]));
    const forbidden = crossRoomImports(graph).filter((edge) => {
      const [from, to] = edge.split(" → ") as [string, string];
      const allowed = ALLOWED[roomOf(from)];
      return allowed === undefined || !allowed.includes(roomOf(to));
    });
    expect(forbidden).toEqual([]);
  });
});
