import { describe, expect, it } from "vitest";
import { CONTROL_MAX_LINE } from "../../src/vmd/control-port.js";
import { JsonLineDecoder } from "../../src/vmd/json-line-decoder.js";
import { forEachCase, hostileStream, split, value } from "./hostile-input.js";

// The framing under every guest-facing protocol (control port, guest agent, QMP), fed what a hostile guest
// sends: whatever arrives, it returns messages or "invalid" reports and never throws or quotes raw controls.

const SMALL_LIMIT = 4096;
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202e]/;

describe("JsonLineDecoder under hostile streams", () => {
  // Generous timeout: the cases take a few seconds, more on a machine shared with QEMU guests.
  it("returns only messages and safe invalid reports for 1,000 generated streams", { timeout: 30_000 }, () => {
    forEachCase((random) => {
      const limit = random.next() < 0.8 ? SMALL_LIMIT : CONTROL_MAX_LINE;
      const decoder = new JsonLineDecoder(limit);
      // Plain checks per line and one assertion per case: floods decode thousands of lines.
      const unsafeReports: string[] = [];
      for (const chunk of hostileStream(random, limit)) {
        for (const line of decoder.push(chunk)) {
          if (line.kind === "invalid" && (line.why.length >= 200 || CONTROL.test(line.why))) unsafeReports.push(line.why);
        }
      }
      expect(unsafeReports).toEqual([]);
    });
  });

  it("decodes the same messages however 1,000 generated valid streams are cut", () => {
    forEachCase((random) => {
      const messages = Array.from({ length: 1 + random.int(8) }, () => value(random, 0, true)).filter((item) => JSON.stringify(item).length < SMALL_LIMIT);
      const stream = Buffer.from(messages.map((item) => `${JSON.stringify(item)}\n`).join(""));
      const decoder = new JsonLineDecoder(SMALL_LIMIT);
      const decoded = split(random, stream).flatMap((chunk) => decoder.push(chunk));
      // Lines that are blank once trimmed (a top-level string of spaces cannot be) are skipped, others kept.
      expect(decoded).toEqual(messages.map((item) => ({ kind: "message", value: JSON.parse(JSON.stringify(item)) as unknown })));
    });
  });

  it("counts the oversized lines of a flood and recovers after each", () => {
    const decoder = new JsonLineDecoder(64);
    const line = Buffer.from(`${"x".repeat(100)}\n{"ok":1}\n`);
    const decoded = Array.from({ length: 2000 }, () => decoder.push(line)).flat();
    expect(decoded.filter((entry) => entry.kind === "message")).toHaveLength(2000);
    expect(decoder.oversizedLines).toBe(2000);
    expect(decoded.at(-2)).toEqual({ kind: "invalid", why: "line longer than 64 bytes dropped (2000 so far)" });
  });
});
