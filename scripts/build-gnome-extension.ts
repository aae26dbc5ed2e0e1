import { execFileSync } from "node:child_process";
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { toLegacyEntry, toLegacyModule } from "./gnome-extension/legacy-modules.js";
import { filesUnder, packExtension } from "./gnome-extension/pack.js";

// `npm run build:gnome`: compiles src/gnome-extension/ with its own tsconfig and lays out two installable
// extensions from the same code, each also packed as a zip for `gnome-extensions install` (gnome-extension/pack.ts):
//   dist/gnome-extension/esm/<uuid>/     GNOME Shell 45+: the ES modules as tsc wrote them
//   dist/gnome-extension/legacy/<uuid>/  GNOME Shell 43–44: the same modules in the imports.* format
// Output is tsc's readable JavaScript with comments (GNOME's review reads it); nothing is bundled or minified.

const REPO = fileURLToPath(new URL("../", import.meta.url));
const SOURCE = join(REPO, "src/gnome-extension");
const OUT = join(REPO, "dist/gnome-extension");
const COMPILED = join(OUT, "tsc");
export const UUID = "clan-desktop@clan.lol";
export const SCHEMA_ID = "org.gnome.shell.extensions.clan-desktop";

export const FLAVOURS = {
  esm: { shellVersions: ["45", "46", "47", "48", "49", "50", "51"], zip: `${UUID}.shell45-51.zip` },
  // Not 42: the preferences page needs Adw.EntryRow, which libadwaita 1.1 (GNOME 42) lacks.
  legacy: { shellVersions: ["43", "44"], zip: `${UUID}.shell43-44.zip` },
} as const;
export type Flavour = keyof typeof FLAVOURS;

/** Shared code: shipped in both flavours (converted for legacy); entry points differ per flavour. */
const SHARED_DIRS = ["core", "shell"];

/** No `url`: the project has no public code repository yet, and the field is meant to name one. */
function metadata(flavour: Flavour): string {
  const pkg = JSON.parse(readFileSync(join(REPO, "package.json"), "utf8")) as { version: string };
  return `${JSON.stringify(
    {
      uuid: UUID,
      name: "clan-desktop",
      description:
        "Workspaces that belong to private networks: entering a network's workspace starts its VM; the top panel shows every network's VM, backup and update state. Needs clan-sessiond.",
      "shell-version": FLAVOURS[flavour].shellVersions,
      "settings-schema": SCHEMA_ID,
      "version-name": pkg.version,
    },
    null,
    2,
  )}\n`;
}

function layOut(flavour: Flavour): string {
  const root = join(OUT, flavour, UUID);
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  for (const dir of SHARED_DIRS) {
    for (const file of filesUnder(join(COMPILED, dir)).filter((path) => path.endsWith(".js"))) {
      const path = relative(COMPILED, file);
      const source = readFileSync(file, "utf8");
      // platform.js holds only types: it compiles to nothing but "export {};" and is never imported at run time.
      if (/^\s*(\/\/.*\n)*\s*export \{\};\s*$/.test(source)) continue;
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), flavour === "esm" ? source : toLegacyModule(source, path));
    }
  }
  for (const entry of ["extension.js", "prefs.js"]) {
    const from = flavour === "esm" ? join(COMPILED, entry) : join(COMPILED, "legacy", entry);
    const source = readFileSync(from, "utf8");
    writeFileSync(join(root, entry), flavour === "esm" ? source : toLegacyEntry(source));
  }
  cpSync(join(SOURCE, "stylesheet.css"), join(root, "stylesheet.css"));
  cpSync(join(REPO, "LICENSE"), join(root, "LICENSE"));
  mkdirSync(join(root, "schemas"));
  cpSync(join(SOURCE, "schemas", `${SCHEMA_ID}.gschema.xml`), join(root, "schemas", `${SCHEMA_ID}.gschema.xml`));
  execFileSync("glib-compile-schemas", ["--strict", join(root, "schemas")], { stdio: "inherit" });
  writeFileSync(join(root, "metadata.json"), metadata(flavour));
  const zip = join(OUT, FLAVOURS[flavour].zip);
  packExtension(root, zip);
  return zip;
}

export function buildGnomeExtension(): Record<Flavour, string> {
  rmSync(COMPILED, { recursive: true, force: true });
  try {
    execFileSync(join(REPO, "node_modules/.bin/tsc"), ["-p", join(SOURCE, "tsconfig.json")], { stdio: "inherit" });
  } catch {
    throw new Error("tsc failed on src/gnome-extension (errors above)");
  }
  return { esm: layOut("esm"), legacy: layOut("legacy") };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  try {
    execFileSync("glib-compile-schemas", ["--version"], { stdio: "ignore" });
  } catch {
    console.error("build:gnome needs glib-compile-schemas (Debian package libglib2.0-bin; scripts/setup.sh installs it with gnome-shell)");
    process.exit(1);
  }
  const zips = buildGnomeExtension();
  for (const [flavour, zip] of Object.entries(zips)) console.log(`${flavour}: ${relative(REPO, zip)}`);
}
