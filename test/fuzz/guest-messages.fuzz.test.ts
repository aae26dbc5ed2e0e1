import { describe, expect, it } from "vitest";
import { ClanError } from "../../src/shared/errors.js";
import { describeUntrusted } from "../../src/shared/untrusted-text.js";
import { GuestMessage } from "../../src/vmd/control-port.js";
import { GuestAgentError, parseAgentReply } from "../../src/vmd/guest-agent-client.js";
import { classifyQmpMessage } from "../../src/vmd/qmp-client.js";
import { deepValue, forEachCase, Random, value } from "./hostile-input.js";

// What clan-vmd does with each parsed message a guest (control port, guest agent) or QEMU sends: validate it and
// describe it for the log. For 1,000 generated values each, including 20,000-deep ones, the result is a typed
// value or a typed error, and a description is bounded and free of control characters.

const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202e]/;

describe("control-port messages", () => {
  it("validates and describes 1,000 generated values without throwing", () => {
    forEachCase((random) => {
      const raw = value(random);
      const parsed = GuestMessage.safeParse(raw);
      if (parsed.success) expect(["ready", "pong"]).toContain(parsed.data.type);
      const described = describeUntrusted(raw);
      expect(described.length).toBeLessThan(260);
      expect(described).not.toMatch(CONTROL);
    });
  });

  it("describes the 5,000-deep line that once crashed clan-vmd", () => {
    const raw = JSON.parse(`${"[".repeat(5000)}${"]".repeat(5000)}`) as unknown;
    expect(() => JSON.stringify(raw)).toThrow(RangeError);
    expect(describeUntrusted(raw)).toBe("[[[[[…]]]]]");
    expect(describeUntrusted(deepValue(new Random(7), 100_000))).toMatch(/^(\[\[\[\[\[…\]\]\]\]\]|\{"a":\{"a":\{"a":\{"a":\{…\}\}\}\}\})$/);
  });
});

describe("guest agent replies", () => {
  it("turn 1,000 generated replies into a value, a GuestAgentError or a Protocol error", () => {
    forEachCase((random) => {
      const raw = value(random);
      try {
        parseAgentReply("guest-ping", raw);
      } catch (error) {
        expect(error).toBeInstanceOf(ClanError);
        if (!(error instanceof GuestAgentError)) expect((error as ClanError).code).toBe("Protocol");
        expect((error as Error).message.length).toBeLessThan(800);
        expect((error as Error).message).not.toMatch(CONTROL);
      }
    });
  });
});

describe("QMP messages", () => {
  it("classify 1,000 generated messages as an event, a reply or ignored", () => {
    forEachCase((random) => {
      expect(["event", "reply", "ignored"]).toContain(classifyQmpMessage(value(random)).kind);
    });
  });
});
