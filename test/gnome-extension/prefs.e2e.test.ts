import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildGnomeExtension, UUID } from "../../scripts/build-gnome-extension.js";
import { REPO } from "../helpers/daemons.js";
import { hasBinary, skipReason } from "../helpers/processes.js";

// The preferences page of the GNOME 45+ build, built by real GJS with GTK 4 and libadwaita under Xvfb: the
// rows exist, show the schema's defaults, and nothing GTK parses (descriptions are Pango markup) is rejected.

const needs = ["gjs", "xvfb-run", "glib-compile-schemas"];

describe.skipIf(!needs.every(hasBinary))(`the preferences window${skipReason(...needs)}`, () => {
  let dir: string;
  beforeAll(async () => {
    buildGnomeExtension();
    dir = await mkdtemp(join(tmpdir(), "clan-prefs-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("has the two keybindings with their defaults and the two panel options", async () => {
    const root = join(REPO, "dist/gnome-extension/esm", UUID);
    const script = join(dir, "prefs.js");
    await writeFile(
      script,
      `import Adw from "gi://Adw?version=1";
import Gtk from "gi://Gtk?version=4.0";
import Gio from "gi://Gio";
import { fillPreferences } from ${JSON.stringify(pathToFileURL(join(root, "shell/prefs-page.js")).href)};
Adw.init();
const source = Gio.SettingsSchemaSource.new_from_directory(${JSON.stringify(join(root, "schemas"))}, Gio.SettingsSchemaSource.get_default(), false);
const settings = new Gio.Settings({ settings_schema: source.lookup("org.gnome.shell.extensions.clan-desktop", false) });
const window = new Adw.PreferencesWindow();
fillPreferences({ Adw, Gtk }, window, settings);
const rows = [];
const walk = (widget) => {
  for (let child = widget.get_first_child(); child; child = child.get_next_sibling()) {
    if (child instanceof Adw.PreferencesRow) rows.push(child instanceof Adw.EntryRow ? child.title + " = " + child.text : child.title);
    walk(child);
  }
};
walk(window);
print(JSON.stringify(rows));
`,
    );
    const result = await execa("xvfb-run", ["-a", "gjs", "-m", script], { env: { GSETTINGS_BACKEND: "memory", NO_AT_BRIDGE: "1" }, reject: false, all: true });
    expect(result.exitCode, result.all).toBe(0);
    const rows = JSON.parse(result.stdout.trim().split("\n").pop() ?? "[]") as string[];
    expect(rows).toEqual([
      "Rebuild the focused network = <Super><Shift>r",
      "Roll back the focused network = <Super><Shift>z",
      "Show running networks beside the icon",
      "Notify on failures",
    ]);
    expect(result.stderr).not.toMatch(/CRITICAL|markup/);
  });
});
