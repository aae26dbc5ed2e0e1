import { describe, expect, it } from "vitest";
import { actionForClick, ROLLBACK_PREVIOUS } from "../../src/bar/click-actions.js";
import { ClickLineSplitter, MAX_CLICK_LINE_CHARS, parseClickLine, type ClickEvent } from "../../src/bar/click-events.js";

const click = (fields: Partial<ClickEvent>): ClickEvent => ({ name: "clan-desktop", instance: "family", button: 1, ...fields });

describe("click event lines", () => {
  it("reads i3bar's and swaybar's stream: the opening bracket, then events with leading commas", () => {
    expect(parseClickLine("[")).toEqual({ kind: "blank" });
    expect(parseClickLine("")).toEqual({ kind: "blank" });
    const first = parseClickLine('[{"name":"clan-desktop","instance":"family","button":1,"x":10,"y":5,"relative_x":3,"relative_y":2,"width":80,"height":20,"modifiers":[]}');
    expect(first).toMatchObject({ kind: "click", click: { name: "clan-desktop", instance: "family", button: 1, x: 10 } });
    expect(parseClickLine(' ,{"name":"clan-desktop","instance":"club","button":3}')).toEqual({
      kind: "click",
      click: { name: "clan-desktop", instance: "club", button: 3 },
    });
  });

  it("reads i3blocks 1.5's lines for a persistent block, which start with an empty key", () => {
    expect(parseClickLine('{"":"","name":"clan-desktop","instance":"family","button":2,"x":4}')).toMatchObject({
      kind: "click",
      click: { instance: "family", button: 2 },
    });
  });

  it("reports what is not JSON or not a click event, without throwing", () => {
    expect(parseClickLine(",{not json")).toMatchObject({ kind: "invalid", reason: expect.stringMatching(/^not JSON .*"\{not json"$/) });
    expect(parseClickLine('{"name":"clan-desktop","instance":"family"}')).toMatchObject({
      kind: "invalid",
      reason: expect.stringContaining("button"),
    });
    expect(parseClickLine('{"name":"clan-desktop","button":"1"}')).toMatchObject({ kind: "invalid" });
    expect(parseClickLine('{"name":["x"],"button":1}')).toMatchObject({ kind: "invalid", reason: expect.stringContaining("name") });
    expect(parseClickLine("[1,2]")).toMatchObject({ kind: "invalid" });
    expect(parseClickLine("null")).toMatchObject({ kind: "invalid" });
  });

  it("splits chunks into lines and drops a line longer than any click event", () => {
    const lines: string[] = [];
    const overlong: number[] = [];
    const splitter = new ClickLineSplitter((line) => lines.push(line), (length) => overlong.push(length));
    splitter.push('[\n{"a"');
    splitter.push(':1}\n,{"b":2}\n');
    expect(lines).toEqual(["[", '{"a":1}', ',{"b":2}']);
    splitter.push("x".repeat(MAX_CLICK_LINE_CHARS + 1));
    splitter.push("still the same line\nafter\n");
    expect(overlong).toEqual([MAX_CLICK_LINE_CHARS + 1]);
    expect(lines.at(-1)).toBe("after");
  });
});

describe("what a click does", () => {
  it("left click switches, middle rebuilds, right rolls back to the previous generation", () => {
    expect(actionForClick(click({ button: 1 }))).toEqual({ action: { method: "Switch", network: "family" } });
    expect(actionForClick(click({ button: 2 }))).toEqual({ action: { method: "Rebuild", network: "family" } });
    expect(actionForClick(click({ button: 3 }))).toEqual({ action: { method: "Rollback", network: "family", generation: ROLLBACK_PREVIOUS } });
    expect(ROLLBACK_PREVIOUS).toBe(-1);
  });

  it("does nothing, quietly, when scrolling", () => {
    for (const button of [4, 5, 6, 7]) expect(actionForClick(click({ button }))).toEqual({ ignored: "scrolling does nothing", quiet: true });
    expect(actionForClick(click({ button: 8 }))).toEqual({ ignored: "button 8 does nothing" });
  });

  it("ignores clicks on other blocks and on blocks that stand for no network", () => {
    expect(actionForClick(click({ name: "clock" }))).toMatchObject({ ignored: expect.stringContaining('"clock"') });
    expect(actionForClick(click({ instance: undefined }))).toMatchObject({ ignored: expect.stringContaining("no single network") });
    expect(actionForClick(click({ instance: "clan-sessiond" }))).toMatchObject({ ignored: expect.stringContaining("no single network") });
  });

  it("opens the manager on a left click on the trailing manager block, whatever its instance, and nothing else", () => {
    expect(actionForClick(click({ name: "clan-desktop-manager", instance: "open" }))).toEqual({ action: { method: "OpenManager" } });
    expect(actionForClick(click({ name: "clan-desktop-manager", instance: "family" }))).toEqual({ action: { method: "OpenManager" } });
    expect(actionForClick(click({ name: "clan-desktop-manager", button: 3 }))).toMatchObject({ ignored: expect.stringContaining("button 3"), quiet: false });
    expect(actionForClick(click({ name: "clan-desktop-manager", button: 4 }))).toMatchObject({ quiet: true });
  });
});
