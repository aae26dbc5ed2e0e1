import { describe, expect, it } from "vitest";
import { safeColour } from "../../src/gnome-extension/core/format.js";

describe("a network's colour on its way into the menu's CSS", () => {
  it.each([
    ["#2e7dbf", "#2e7dbf"],
    ["#2E7DBF", "#2e7dbf"],
    ["#fff", "#888888"],
    ["red", "#888888"],
    ["#2e7dbf; background-image: url(file:///x)", "#888888"],
    ["#2e7dbf\n", "#888888"],
    ["", "#888888"],
  ])("%j becomes %j", (colour, css) => {
    expect(safeColour(colour)).toBe(css);
  });
});
