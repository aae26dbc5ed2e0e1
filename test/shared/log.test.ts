import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { rateLimitedLog } from "../../src/shared/log.js";

// A guest can send bad lines at will; what reaches the log is a bounded burst and a count of the rest.

describe("rateLimitedLog", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("logs a burst, counts the rest of a flood, and logs again in the next window", () => {
    const lines: string[] = [];
    const log = rateLimitedLog((line) => lines.push(line), "bad lines", { burst: 3, windowMs: 10_000 });
    for (let i = 0; i < 1000; i++) log(`bad ${i}`);
    expect(lines).toEqual(["bad 0", "bad 1", "bad 2"]);
    vi.advanceTimersByTime(10_000);
    expect(lines.at(-1)).toBe("997 more bad lines suppressed in the last 10 s");
    log("bad again");
    expect(lines.at(-1)).toBe("bad again");
  });

  it("says nothing more when a window ends without a flood", () => {
    const lines: string[] = [];
    const log = rateLimitedLog((line) => lines.push(line), "bad lines", { burst: 3, windowMs: 10_000 });
    log("one");
    vi.advanceTimersByTime(10_000);
    expect(lines).toEqual(["one"]);
  });
});
