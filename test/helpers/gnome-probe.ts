import { execFileSync } from "node:child_process";
import { cp, mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Flavour } from "../../scripts/build-gnome-extension.js";
import { toLegacyModule } from "../../scripts/gnome-extension/legacy-modules.js";
import { REPO } from "./daemons.js";
import { hasBinary } from "./processes.js";

// Which GNOME Shell this machine has, which of the extension's two builds that shell loads, and the test-only
// probe extension (test/gnome-extension/probe) laid out in that shell's format. The same end-to-end tests thus run
// GNOME Shell 43 with the 43–44 build on Debian 12 and GNOME Shell 48 with the 45+ build in the Debian 13 lane.

export const PROBE_UUID = "clan-probe@test.clan.lol";
const PROBE_SOURCE = join(REPO, "test/gnome-extension/probe");

/** The installed gnome-shell's major version, or undefined without one. Synchronous, for describe.skipIf. */
export function installedShellMajor(): number | undefined {
  if (!hasBinary("gnome-shell")) return undefined;
  const output = execFileSync("gnome-shell", ["--version"], { encoding: "utf8" });
  const major = /GNOME Shell (\d+)/.exec(output)?.[1];
  if (major === undefined) throw new Error(`cannot read a version from "gnome-shell --version": ${output}`);
  return Number(major);
}

/** GNOME Shell 45 switched extensions to ES modules; 43–44 load the imports.* format. */
export function flavourForShell(major: number): Flavour {
  return major >= 45 ? "esm" : "legacy";
}

/** Writes the probe extension for `flavour` into `parent`/<uuid> and returns that directory. */
export async function writeProbeExtension(flavour: Flavour, parent: string): Promise<string> {
  const target = join(parent, PROBE_UUID);
  await mkdir(target, { recursive: true });
  await cp(join(PROBE_SOURCE, "metadata.json"), join(target, "metadata.json"));
  const probe = await readFile(join(PROBE_SOURCE, "probe.js"), "utf8");
  if (flavour === "esm") {
    await writeFile(join(target, "probe.js"), probe);
    await cp(join(PROBE_SOURCE, "extension.js"), join(target, "extension.js"));
  } else {
    await writeFile(join(target, "probe.js"), toLegacyModule(probe, "probe.js"));
    await cp(join(PROBE_SOURCE, "legacy/extension.js"), join(target, "extension.js"));
  }
  return target;
}
