import { describe, expect, it } from "vitest";
import { I3BAR_HEADER, i3barBlocks, i3barFormat } from "../../src/bar/i3bar-format.js";
import { i3blocksFormat, i3blocksOutput } from "../../src/bar/i3blocks-format.js";
import type { BarState } from "../../src/bar/model.js";
import { waybarFormat, waybarOutput } from "../../src/bar/waybar-format.js";
import { networkStatus } from "./network-status.js";

const missing: BarState = { kind: "sessiond-missing" };
const family = networkStatus({ vmState: "running", focused: true });
const club = networkStatus({ name: "club", label: "Chess club ♞", colour: "#b5462f", backupState: "overdue" });
const two: BarState = { kind: "networks", networks: [club, family] };

describe("i3bar/swaybar protocol", () => {
  it("opens with the header and an array, then writes every status as an element on its own line", () => {
    const format = i3barFormat();
    expect(format.preamble).toBe(`${JSON.stringify(I3BAR_HEADER)}\n[\n`);
    expect(JSON.parse(format.preamble.split("\n")[0]!)).toEqual({ version: 1, click_events: true });
    const stream = format.preamble + format.frame(format.render(two), true) + format.frame(format.render(missing), false);
    // What a bar reads after the header: a JSON array that is never closed.
    const statuses = JSON.parse(`${stream.slice(stream.indexOf("\n") + 1)}]`) as unknown[][];
    expect(statuses).toHaveLength(2);
    expect(stream.endsWith("\n")).toBe(true);
    expect(format.clicksOnStdin).toBe(true);
  });

  it("writes a block per network, named clan-desktop with the network as instance", () => {
    const [clubBlock, familyBlock] = i3barBlocks(two);
    expect(familyBlock).toMatchObject({ name: "clan-desktop", instance: "family", color: "#2e7dbf", markup: "pango" });
    expect(familyBlock).not.toHaveProperty("urgent");
    expect(familyBlock!.full_text).toContain("<b> Family </b>");
    expect(clubBlock).toMatchObject({ instance: "club", urgent: true });
    expect(clubBlock!.full_text).toContain("⚠ backup overdue");
    expect(clubBlock!.short_text).toContain(" club ");
    expect(i3barBlocks(two, "club").map((block) => block.instance)).toEqual(["club"]);
  });

  it("ends the bar of all networks with the manager block, which a bar of one network has not", () => {
    expect(i3barBlocks(two).map((block) => block.name)).toEqual(["clan-desktop", "clan-desktop", "clan-desktop-manager"]);
    expect(i3barBlocks(two).at(-1)).toEqual({ name: "clan-desktop-manager", instance: "open", full_text: "☰ Manager", short_text: "☰", markup: "none" });
    expect(i3barBlocks(two, "club").map((block) => block.name)).toEqual(["clan-desktop"]);
  });

  it("shows one urgent block when clan-sessiond is not running", () => {
    expect(i3barBlocks(missing)).toEqual([
      { name: "clan-desktop", instance: "clan-sessiond", full_text: "clan-sessiond not running", color: "#ff5555", urgent: true, markup: "none" },
    ]);
  });
});

describe("waybar custom module", () => {
  it("writes one JSON object per line, with markup text, a tooltip, classes and no header", () => {
    const format = waybarFormat();
    expect(format.preamble).toBe("");
    expect(format.clicksOnStdin).toBe(false);
    const line = format.frame(format.render(two), true);
    expect(line.endsWith("\n")).toBe(true);
    expect(line.slice(0, -1)).not.toContain("\n");
    const output = JSON.parse(line) as ReturnType<typeof waybarOutput>;
    expect(output.alt).toBe("urgent");
    expect(output.class).toEqual(["stopped", "backup-overdue", "urgent", "running", "focused"]);
    expect(output.tooltip).toBe("Chess club ♞: stopped, ⚠ backup overdue\nFamily: running, focused");
    expect(output.text).toContain("Chess club ♞");
    expect(output.text).toContain("Family");
    expect(output).not.toHaveProperty("percentage");
  });

  it("stands for one network with --network: its state as alt, its build progress as percentage", () => {
    const building = networkStatus({ buildState: "building", buildProgress: 0.25 });
    const output = waybarOutput({ kind: "networks", networks: [building, club] }, "family");
    expect(output).toMatchObject({ alt: "stopped", percentage: 25, class: ["stopped", "building"] });
    expect(output.text).toContain("⚙ building 25%");
  });

  it("hides the module (empty text) when the network is not configured", () => {
    expect(waybarOutput(two, "work")).toEqual({ text: "", alt: "none", tooltip: "", class: ["none"] });
  });

  it("says that clan-sessiond is not running, urgently", () => {
    expect(waybarOutput(missing)).toMatchObject({ text: "clan-sessiond not running", alt: "sessiond-missing", class: ["sessiond-missing", "urgent"] });
  });
});

describe("i3blocks persistent block", () => {
  const HOSTILE = `Fam "ily" \\ </span>`;

  it("writes only string values, and nothing that needs a JSON escape (i3blocks 1.4 cannot read \\\")", () => {
    const state: BarState = { kind: "networks", networks: [networkStatus({ label: HOSTILE, vmState: "failed" })] };
    const format = i3blocksFormat("family");
    const line = format.frame(format.render(state), true);
    expect(line.slice(0, -1)).not.toContain("\\");
    const output = JSON.parse(line) as Record<string, unknown>;
    expect(Object.values(output).every((value) => typeof value === "string")).toBe(true);
    expect(output).toMatchObject({ name: "clan-desktop", instance: "family", color: "#2e7dbf", urgent: "true", markup: "pango" });
    expect(output["full_text"]).toContain("Fam &#34;ily&#34; &#92; &#60;/span&#62;");
  });

  it("combines every network into one block without an instance unless --network names one", () => {
    const output = i3blocksOutput(two);
    expect(output).not.toHaveProperty("instance");
    expect(output).not.toHaveProperty("color");
    expect(output["full_text"]).toContain("Chess club ♞");
    expect(output["urgent"]).toBe("true");
  });

  it("falls back to the short form, then to a count, when the text would not fit i3blocks 1.4's buffer", () => {
    const many = Array.from({ length: 8 }, (_, i) => networkStatus({ name: `net${i}`, label: `a label that is long enough to need the short form, number ${i}` }));
    const output = i3blocksOutput({ kind: "networks", networks: many });
    expect(output["full_text"]).not.toContain("label");
    expect(output["full_text"]).toContain("net7");
    expect(output["short_text"]).toBe("8 networks: use one block per --network");
    const tooMany = Array.from({ length: 40 }, (_, i) => networkStatus({ name: `net${i}` }));
    expect(i3blocksOutput({ kind: "networks", networks: tooMany })["full_text"]).toBe("40 networks: use one block per --network");
  });

  it("says that clan-sessiond is not running, urgently", () => {
    expect(i3blocksOutput(missing)).toEqual({
      name: "clan-desktop",
      instance: "clan-sessiond",
      full_text: "clan-sessiond not running",
      color: "#ff5555",
      urgent: "true",
    });
  });
});
