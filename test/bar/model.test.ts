import { describe, expect, it } from "vitest";
import { checkedColour, displayText, pangoText, textColourOn } from "../../src/bar/markup.js";
import { networkMarkup, networkView, STATE_GLYPHS } from "../../src/bar/model.js";
import type { NetworkVmState } from "../../src/shared/session-api.js";
import { networkStatus } from "./network-status.js";

const HOSTILE_LABEL = `</span><span foreground='red'>Bank "login"</span> & \\ 'x' <b>`;

/** The text Pango would show for `markup`: tags dropped, character references resolved. */
function visibleText(markup: string): string {
  return markup.replace(/<[^>]*>/g, "").replace(/&#(\d+);/g, (_match, code: string) => String.fromCharCode(Number(code)));
}

describe("the bar's model of a network", () => {
  it.each(Object.entries(STATE_GLYPHS))("shows VM state %s as %s", (state, glyph) => {
    const view = networkView(networkStatus({ vmState: state as NetworkVmState }));
    expect(view.glyph).toBe(glyph);
    expect(view.classes[0]).toBe(state);
    expect(networkMarkup(view, "full").startsWith(`<span foreground='#2e7dbf'>${glyph}</span> `)).toBe(true);
  });

  it("puts the label on a chip of the network's colour, with readable text, bold while focused", () => {
    expect(networkMarkup(networkView(networkStatus()), "full")).toBe(
      "<span foreground='#2e7dbf'>○</span> <span background='#2e7dbf' foreground='#000000'> Family </span>",
    );
    const focused = networkMarkup(networkView(networkStatus({ focused: true, colour: "#202020" })), "full");
    expect(focused).toContain("<span background='#202020' foreground='#ffffff'><b> Family </b></span>");
  });

  it("uses the name in the short form and falls back to it when the label is empty", () => {
    expect(visibleText(networkMarkup(networkView(networkStatus({ label: "A long label" })), "short"))).toBe("○  family ");
    expect(networkView(networkStatus({ label: "" })).label).toBe("family");
  });

  it("never puts a colour that is not #rrggbb into markup", () => {
    const view = networkView(networkStatus({ colour: "red' size='99999" }));
    expect(view.colour).toBeUndefined();
    expect(networkMarkup(view, "full")).toBe("○  Family ");
    expect(checkedColour("#AABBCC")).toBe("#aabbcc");
  });

  it("escapes a hostile label so that Pango shows it literally", () => {
    const markup = networkMarkup(networkView(networkStatus({ label: HOSTILE_LABEL, colour: "#00aa00" })), "full");
    expect(visibleText(markup)).toBe(`○  ${HOSTILE_LABEL} `);
    // Only our own spans are markup: the label contributes no tag, quote or backslash.
    expect(markup.match(/<[^>]*>/g)).toEqual(["<span foreground='#00aa00'>", "</span>", "<span background='#00aa00' foreground='#000000'>", "</span>"]);
    expect(markup).not.toMatch(/["\\]/);
  });

  it("replaces control and reordering characters and cuts long labels", () => {
    expect(displayText("a\nb\u202Ec\u0007", 64)).toBe("a\uFFFDb\uFFFDc\uFFFD");
    expect(displayText("x".repeat(100), 10)).toBe(`${"x".repeat(9)}…`);
    expect(pangoText(`<&>"'\\`)).toBe("&#60;&#38;&#62;&#34;&#39;&#92;");
  });

  it("shows the job running on a network, with its progress when known, and a rebuild's build only once", () => {
    const view = (overrides: Parameters<typeof networkStatus>[0]) => networkView(networkStatus(overrides));
    const backup = view({ jobId: "backup-family-3", jobKind: "backup", jobPhase: "storing the copy in the repository", jobProgress: 0.4 });
    expect(backup.badges).toEqual([{ kind: "job", glyph: "⟳", text: "⟳ backing up 40%" }]);
    expect(backup.classes).toContain("job");
    expect(backup.summary).toBe("Family: stopped, ⟳ backing up 40%");
    expect(view({ jobId: "restore-family-4", jobKind: "restore", jobPhase: "stop the VM", jobProgress: -1 }).badges.map((b) => b.text)).toEqual(["⟳ restoring"]);
    expect(view({ jobId: "rollback-family-5", jobKind: "rollback", jobPhase: "booting generation 2", jobProgress: -1 }).badges.map((b) => b.text)).toEqual(["⟳ rolling back"]);
    expect(view({ jobId: "rebuild-family-6", jobKind: "rebuild", jobPhase: "building", jobProgress: 0.5, buildState: "building", buildProgress: 0.5 }).badges.map((b) => b.text)).toEqual(["⚙ building 50%"]);
    expect(view({ jobId: "rebuild-family-6", jobKind: "rebuild", jobPhase: "booting generation 3", jobProgress: -1 }).badges.map((b) => b.text)).toEqual(["⟳ rebuilding"]);
    expect(networkMarkup(backup, "full")).toContain(" ⟳ backing up 40%");
    expect(networkMarkup(backup, "short")).toMatch(/ ⟳$/);
  });

  it("shows badges for an overdue or failed backup, an update, a build and a failed build", () => {
    const badges = (overrides: Parameters<typeof networkStatus>[0]) => networkView(networkStatus(overrides)).badges.map((b) => b.text);
    expect(badges({})).toEqual([]);
    expect(badges({ backupState: "overdue" })).toEqual(["⚠ backup overdue"]);
    expect(badges({ backupState: "failed" })).toEqual(["⚠ backup failed"]);
    expect(badges({ backupState: "running" })).toEqual(["⟳ backing up"]);
    expect(badges({ updateAvailable: true })).toEqual(["⬆ update"]);
    expect(badges({ buildState: "building", buildProgress: 0.424 })).toEqual(["⚙ building 42%"]);
    expect(badges({ buildState: "building", buildProgress: -1 })).toEqual(["⚙ building"]);
    expect(badges({ buildState: "failed" })).toEqual(["✗ build failed"]);
    expect(badges({ vpnState: "down" })).toEqual(["⚠ VPN down"]);
    expect(badges({ vpnState: "up", vpnPeers: 0 })).toEqual([]);
    const view = networkView(networkStatus({ backupState: "overdue", updateAvailable: true }));
    expect(visibleText(networkMarkup(view, "full"))).toBe("○  Family  ⚠ backup overdue ⬆ update");
    expect(visibleText(networkMarkup(view, "short"))).toBe("○  family  ⚠⬆");
  });

  it("reports build progress as a percentage only while building", () => {
    expect(networkView(networkStatus({ buildState: "building", buildProgress: 0.5 })).buildPercent).toBe(50);
    expect(networkView(networkStatus({ buildState: "building", buildProgress: 1.5 })).buildPercent).toBeUndefined();
    expect(networkView(networkStatus({ buildState: "idle", buildProgress: 0.5 })).buildPercent).toBeUndefined();
  });

  it("is urgent when the VM or a build failed, or a backup is overdue or failed", () => {
    const urgent = (overrides: Parameters<typeof networkStatus>[0]) => networkView(networkStatus(overrides)).urgent;
    expect(urgent({})).toBe(false);
    expect(urgent({ vmState: "failed" })).toBe(true);
    expect(urgent({ buildState: "failed" })).toBe(true);
    expect(urgent({ backupState: "overdue" })).toBe(true);
    expect(urgent({ backupState: "failed" })).toBe(true);
    expect(urgent({ updateAvailable: true, buildState: "building", buildProgress: 0.1 })).toBe(false);
    expect(networkView(networkStatus({ vmState: "failed", focused: true })).classes).toEqual(["failed", "focused", "urgent"]);
  });

  it("summarises everything in one line of plain text, the error included", () => {
    const view = networkView(networkStatus({ vmState: "failed", error: "start failed:\nno kernel", updateAvailable: true }));
    expect(view.summary).toBe("Family: failed, ⬆ update — start failed:\uFFFDno kernel");
  });

  it("picks black or white text by the background's luminance", () => {
    expect(textColourOn("#ffffff")).toBe("#000000");
    expect(textColourOn("#f5e6a0")).toBe("#000000");
    expect(textColourOn("#000000")).toBe("#ffffff");
    expect(textColourOn("#b5462f")).toBe("#ffffff");
  });
});
