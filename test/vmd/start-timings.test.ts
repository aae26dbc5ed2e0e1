import { describe, expect, it } from "vitest";
import { parseStartTimings, StartTimings } from "../../src/vmd/start-timings.js";

// The line clan-vmd logs per start with CLAN_DEBUG, and the benchmark's reading of it, agree on every step.

describe("a start's timings", () => {
  it("name each step in order, end with the total, and read back as the same steps", () => {
    const timings = new StartTimings();
    for (const step of ["checks", "view reused", "virtiofsd nix-store", "guest ready"]) timings.mark(step);
    const line = `clan-vmd: net: ${timings.summary()}`;
    const steps = parseStartTimings(line);
    expect([...steps!.keys()]).toEqual(["checks", "view reused", "virtiofsd nix-store", "guest ready", "total"]);
    const parts = [...steps!.values()];
    expect(parts.every((ms) => Number.isFinite(ms) && ms >= 0)).toBe(true);
    // The steps are consecutive, so together they are the total (each rounded to a tenth of a millisecond).
    expect(Math.abs(parts.slice(0, -1).reduce((sum, ms) => sum + ms, 0) - parts.at(-1)!)).toBeLessThan(0.5);
  });

  it("are not read from another line", () => {
    expect(parseStartTimings("clan-vmd: net: stopped (quit)")).toBeUndefined();
  });
});
