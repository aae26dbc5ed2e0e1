import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { buildGnomeExtension, FLAVOURS, UUID } from "../../scripts/build-gnome-extension.js";
import { filesUnder, packExtension, type Packer } from "../../scripts/gnome-extension/pack.js";
import { checkEsmBuild, checkLegacyBuild, declaredModules, SHELL_45_MODULES } from "../../scripts/check-gnome-extension.js";
import { REPO } from "../helpers/daemons.js";
import { hasBinary, skipReason } from "../helpers/processes.js";

// `npm run build:gnome` for real: tsc against @girs/gnome-shell's types (a type error fails the build), then the
// layout and module-format checks of scripts/check-gnome-extension.ts on both outputs.

const OUT = join(REPO, "dist/gnome-extension");

describe.skipIf(!hasBinary("glib-compile-schemas"))(`the GNOME extension builds${skipReason("glib-compile-schemas")}`, () => {
  beforeAll(() => {
    buildGnomeExtension();
  });

  it("imports in the GNOME 45+ build only modules that exist in GNOME Shell 45+, declared by @girs", () => {
    const declared = declaredModules();
    for (const module of SHELL_45_MODULES) expect(declared, module).toContain(module);
    expect(checkEsmBuild(join(OUT, "esm", UUID), declared)).toEqual([]);
    const entry = readFileSync(join(OUT, "esm", UUID, "extension.js"), "utf8");
    expect(entry).toContain('import { Extension } from "resource:///org/gnome/shell/extensions/extension.js";');
  });

  it("leaves no ES module syntax in the GNOME 43–44 build", () => {
    expect(checkLegacyBuild(join(OUT, "legacy", UUID))).toEqual([]);
  });

  it("writes metadata for each shell generation, with the compiled settings schema and the licence", () => {
    for (const flavour of ["esm", "legacy"] as const) {
      const metadata = JSON.parse(readFileSync(join(OUT, flavour, UUID, "metadata.json"), "utf8")) as Record<string, unknown>;
      expect(metadata).toMatchObject({ uuid: UUID, "shell-version": [...FLAVOURS[flavour].shellVersions], "settings-schema": "org.gnome.shell.extensions.clan-desktop" });
      // No public code repository is recorded anywhere, and `url` must name one: better none than a wrong one.
      expect(metadata).not.toHaveProperty("url");
      expect(readFileSync(join(OUT, flavour, UUID, "schemas/gschemas.compiled")).length).toBeGreaterThan(100);
      expect(readFileSync(join(OUT, flavour, UUID, "LICENSE"), "utf8")).toMatch(/^MIT License\n\nCopyright \(c\) clan-desktop contributors/);
    }
    expect(FLAVOURS.esm.shellVersions).toEqual(["45", "46", "47", "48", "49", "50", "51"]);
    // GNOME 42's libadwaita 1.1 has no Adw.EntryRow, which the preferences page uses.
    expect(FLAVOURS.legacy.shellVersions).toEqual(["43", "44"]);
  });

  // What a zip holds: its files (directory entries left out) with their bytes, read back by Info-ZIP's unzip.
  const zipContent = (zip: string): Record<string, string> => {
    const names = execFileSync("unzip", ["-Z1", zip], { encoding: "utf8" }).split("\n").filter((name) => name !== "" && !name.endsWith("/"));
    return Object.fromEntries(names.sort().map((name) => [name, execFileSync("unzip", ["-p", zip, name]).toString("base64")]));
  };

  it.skipIf(!hasBinary("gnome-extensions") || !hasBinary("unzip"))(
    `packs the same files with the same bytes through gnome-extensions pack and through our zip writer${skipReason("gnome-extensions", "unzip")}`,
    () => {
      const out = mkdtempSync(join(tmpdir(), "clan-rooms-zip-"));
      try {
        for (const flavour of ["esm", "legacy"] as const) {
          const root = join(OUT, flavour, UUID);
          const layout = Object.fromEntries(filesUnder(root).sort().map((path) => [relative(root, path), readFileSync(path).toString("base64")]));
          const packed = (packer: Packer) => {
            const zip = join(out, `${flavour}-${packer}.zip`);
            packExtension(root, zip, packer);
            return zipContent(zip);
          };
          expect(Object.keys(layout)).toEqual(expect.arrayContaining(["metadata.json", "extension.js", "prefs.js", "core/format.js", "shell/controller.js", "schemas/gschemas.compiled"]));
          expect(packed("gnome-extensions")).toEqual(layout);
          expect(packed("zip-writer")).toEqual(layout);
          expect(zipContent(join(OUT, FLAVOURS[flavour].zip))).toEqual(layout);
        }
      } finally {
        rmSync(out, { recursive: true, force: true });
      }
    },
  );
});
