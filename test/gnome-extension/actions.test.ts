import { describe, expect, it } from "vitest";
import { actionCall, KEYBINDINGS, keybindingOutcome } from "../../src/gnome-extension/core/actions.js";
import { parseAcceleratorList } from "../../src/gnome-extension/core/accelerators.js";
import { readFileSync } from "node:fs";

describe("actions and keybindings", () => {
  it("call clan-sessiond's methods with the agreed signatures: the long actions start jobs", () => {
    expect(actionCall("rebuild", "family")).toEqual({ method: "StartRebuild", signature: "(s)", args: ["family"] });
    expect(actionCall("rollback", "family")).toEqual({ method: "StartRollback", signature: "(si)", args: ["family", -1] });
    expect(actionCall("backup", "family")).toEqual({ method: "StartBackup", signature: "(s)", args: ["family"] });
    expect(actionCall("stop", "family")).toEqual({ method: "Stop", signature: "(s)", args: ["family"] });
  });

  it("act on the focused network, or say why they cannot", () => {
    const all = new Set(["StartRebuild", "StartRollback"]);
    expect(keybindingOutcome("rebuild", "family", all)).toEqual({ call: actionCall("rebuild", "family") });
    expect(keybindingOutcome("rollback", "", all)).toEqual({ refusal: "no network is focused: switch to a network's workspace to rollback it" });
    expect(keybindingOutcome("rollback", "family", new Set())).toEqual({ refusal: "clan-sessiond cannot rollback yet (it has no StartRollback method)" });
  });

  it("has a key in the GSettings schema for every keybinding", () => {
    const schema = readFileSync(new URL("../../src/gnome-extension/schemas/org.gnome.shell.extensions.clan-desktop.gschema.xml", import.meta.url), "utf8");
    for (const { key } of KEYBINDINGS) expect(schema).toContain(`<key name="${key}" type="as">`);
  });

  it("parses a comma-separated accelerator list, asking GTK about each", () => {
    const gtk = (accelerator: string) => /^(<\w+>)*\w+$/.test(accelerator);
    expect(parseAcceleratorList(" <Super><Shift>r , <Ctrl>F5,", gtk)).toEqual({ accelerators: ["<Super><Shift>r", "<Ctrl>F5"] });
    expect(parseAcceleratorList("", gtk)).toEqual({ accelerators: [] });
    expect(parseAcceleratorList("<Super>r, <Nope", gtk)).toEqual({ error: '"<Nope" is not a keyboard shortcut GTK understands' });
  });
});
