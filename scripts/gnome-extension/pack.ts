import { execFileSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { createZip } from "./zip.js";

// Packs a laid-out extension directory as the zip `gnome-extensions install` and extensions.gnome.org take:
// with GNOME's own `gnome-extensions pack` where GNOME Shell is installed, else with our small zip writer, which
// needs nothing beyond Node (a Nix build, CI without GNOME). Both give the same files with the same bytes
// (test/gnome-extension/build-output.e2e.test.ts); docs/decisions/gnome-extension-zip.md says why both.

/** The files `gnome-extensions pack` takes without being told; everything else goes in as --extra-source. */
const PACKED_BY_DEFAULT = new Set(["metadata.json", "extension.js", "prefs.js", "stylesheet.css"]);

export type Packer = "gnome-extensions" | "zip-writer";

export function availablePacker(): Packer {
  try {
    execFileSync("gnome-extensions", ["version"], { stdio: "ignore" });
    return "gnome-extensions";
  } catch {
    return "zip-writer";
  }
}

/** Writes the zip of `root` (an extension directory with metadata.json and schemas/<id>.gschema.xml) to `zip`. */
export function packExtension(root: string, zip: string, packer: Packer = availablePacker()): void {
  if (packer === "zip-writer") {
    const entries = filesUnder(root)
      .sort()
      .map((path) => ({ name: relative(root, path), data: readFileSync(path) }));
    writeFileSync(zip, createZip(entries));
    return;
  }
  const options: string[] = [];
  for (const name of readdirSync(root).sort()) {
    if (PACKED_BY_DEFAULT.has(name)) continue;
    // The schema goes in as --schema: pack copies it to schemas/ and compiles it there, as our layout does.
    if (name === "schemas") {
      for (const schema of readdirSync(join(root, name)).filter((file) => file.endsWith(".gschema.xml"))) options.push(`--schema=schemas/${schema}`);
    } else {
      options.push(`--extra-source=${name}`);
    }
  }
  const out = mkdtempSync(join(tmpdir(), "clan-gnome-pack-"));
  try {
    execFileSync("gnome-extensions", ["pack", "--force", `--out-dir=${out}`, ...options, root], { stdio: "inherit" });
    const [packed] = readdirSync(out).filter((name) => name.endsWith(".shell-extension.zip"));
    if (packed === undefined) throw new Error(`gnome-extensions pack wrote no zip for ${root}`);
    // A copy, not a rename: the temporary directory may be on another file system (a tmpfs /tmp, an overlay).
    copyFileSync(join(out, packed), zip);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

export function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}
