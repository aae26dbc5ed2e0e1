import { inflateRawSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { resolveModule, toLegacyEntry, toLegacyModule } from "../../scripts/gnome-extension/legacy-modules.js";
import { createZip } from "../../scripts/gnome-extension/zip.js";

describe("the GNOME 43–44 module conversion", () => {
  it("rewrites only import and export lines into the imports.* format", () => {
    const source = [
      'import { a, b as c } from "../core/dbus-names.js";',
      'import * as Format from "./format.js";',
      "// why this exists",
      "export const X = 1;",
      "export let y = 2;",
      "const hidden = 3;",
      "export function f() { return a + c + Format.z; }",
      "export class K { static n = X; }",
      "(function () {})();",
      "export {};",
      "",
    ].join("\n");
    expect(toLegacyModule(source, "shell/controller.js")).toBe(
      [
        "// GNOME Shell 43–44 module format, converted from the ES module by scripts/gnome-extension/legacy-modules.ts.",
        "const Me = imports.misc.extensionUtils.getCurrentExtension();",
        'const { a, b: c } = Me.imports.core["dbus-names"];',
        "const Format = Me.imports.shell.format;",
        "// why this exists",
        "var X = 1;",
        "var y = 2;",
        "const hidden = 3;",
        "function f() { return a + c + Format.z; }",
        "var K = class K { static n = X; };",
        "(function () {})();",
        "",
        "",
      ].join("\n"),
    );
  });

  it("refuses what the legacy format cannot express or shell code must not do", () => {
    expect(() => toLegacyModule('import St from "gi://St";', "shell/x.js")).toThrow(/shell\/x.js:1/);
    expect(() => toLegacyModule('import { St } from "gi://St";', "shell/x.js")).toThrow(/import of gi:\/\/St/);
    expect(() => toLegacyModule("export default 1;", "core/x.js")).toThrow(/default exports/);
    expect(() => toLegacyModule('export { a } from "./a.js";', "core/x.js")).toThrow(/re-exports/);
    expect(() => resolveModule("core/x.js", "../../outside.js", () => { throw new Error("outside"); })).toThrow(/outside/);
  });

  it("strips the module marker tsc adds to entry points", () => {
    expect(toLegacyEntry("function init() {}\nexport {};\n")).toBe("function init() {}\n");
  });
});

describe("createZip", () => {
  it("writes entries that a zip reader finds and inflates", () => {
    const zip = createZip([
      { name: "metadata.json", data: Buffer.from('{"uuid":"x"}') },
      { name: "core/a-b.js", data: Buffer.from("var X = 1;\n".repeat(100)) },
    ]);
    const end = zip.length - 22;
    expect(zip.readUInt32LE(end)).toBe(0x06054b50);
    expect(zip.readUInt16LE(end + 10)).toBe(2);
    let central = zip.readUInt32LE(end + 16);
    const found: Record<string, string> = {};
    for (let i = 0; i < 2; i++) {
      const nameLength = zip.readUInt16LE(central + 28);
      const name = zip.subarray(central + 46, central + 46 + nameLength).toString();
      const local = zip.readUInt32LE(central + 42);
      const size = zip.readUInt32LE(local + 18);
      const start = local + 30 + zip.readUInt16LE(local + 26);
      found[name] = inflateRawSync(zip.subarray(start, start + size)).toString();
      central += 46 + nameLength;
    }
    expect(found["metadata.json"]).toBe('{"uuid":"x"}');
    expect(found["core/a-b.js"]).toHaveLength(1100);
  });
});
