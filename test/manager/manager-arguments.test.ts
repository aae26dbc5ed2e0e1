import { describe, expect, it } from "vitest";
import { parseManagerArguments } from "../../src/manager/manager-arguments.js";

// clan-manager's command line, which the open window also reads when another program of the session sends it one.

describe("clan-manager's arguments", () => {
  it("opens the window, or its join page with one link", () => {
    expect(parseManagerArguments([])).toEqual({ join: undefined });
    expect(parseManagerArguments(["--join", "clan://git+https://example.org/x#m"])).toEqual({ join: "clan://git+https://example.org/x#m" });
  });

  it("refuses anything else, naming what is wrong", () => {
    expect(() => parseManagerArguments(["--join"])).toThrow("--join needs a link");
    expect(() => parseManagerArguments(["--join", "a", "b"])).toThrow("one link only, got 2");
    expect(() => parseManagerArguments(["clan://x"])).toThrow('usage: clan-manager [--join LINK] (got "clan://x")');
  });
});
