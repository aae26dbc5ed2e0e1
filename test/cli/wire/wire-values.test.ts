import { describe, expect, it } from "vitest";
import { unixSocketPath } from "../../../src/cli/wire/wire-connection.js";
import { completeTypes, WireReader, WireVariant, WireWriter } from "../../../src/cli/wire/wire-values.js";
import { ClanError } from "../../../src/shared/errors.js";

// The small D-Bus reader clanctl's one-shot commands use: what it reads, and that a malformed or hostile message
// (anyone on the session bus can send one) ends in a ClanError naming it, never a hang or a wrong value.

const le = (hex: string) => Buffer.from(hex.replaceAll(" ", ""), "hex");

function expectMalformed(read: () => unknown): void {
  let thrown: unknown;
  try {
    read();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(ClanError);
  expect((thrown as ClanError).code).toBe("Protocol");
  expect((thrown as ClanError).message).toMatch(/^malformed D-Bus message: /);
}

describe("D-Bus values as clanctl reads them", () => {
  it("splits a signature into its complete types", () => {
    expect(completeTypes("sa{sv}(iai)aa{sv}b")).toEqual(["s", "a{sv}", "(iai)", "aa{sv}", "b"]);
    expectMalformed(() => completeTypes("a{sv"));
    expectMalformed(() => completeTypes("(s"));
    expectMalformed(() => completeTypes("z"));
  });

  it("reads what its writer wrote: strings, signatures and unsigned integers, aligned", () => {
    const bytes = new WireWriter().byte(7).string("héllo").signature("a{sv}").uint32(42).toBuffer();
    expect(new WireReader(bytes, true, 0).readAll("ysgu")).toEqual([7, "héllo", "a{sv}", 42]);
  });

  it("reads a dictionary of variants in either byte order, keeping a key named __proto__ a plain key", () => {
    // a{sv} { "__proto__": <b true>, "n": <d 1.5> }, little-endian then big-endian.
    const little = le("30000000 00000000 09000000 5f5f70726f746f5f5f00 01 6200 000000 01000000 01000000 6e00 01 6400 00000000000000 000000000000f83f");
    const big = le("00000030 00000000 00000009 5f5f70726f746f5f5f00 01 6200 000000 00000001 00000001 6e00 01 6400 00000000000000 3ff8000000000000");
    for (const [bytes, littleEndian] of [[little, true], [big, false]] as const) {
      const value = new WireReader(bytes, littleEndian, 0).read("a{sv}") as Record<string, WireVariant>;
      expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
      expect(Object.keys(value)).toEqual(["__proto__", "n"]);
      expect(Object.getOwnPropertyDescriptor(value, "__proto__")?.value).toEqual(new WireVariant("b", true));
      expect(value.n).toEqual(new WireVariant("d", 1.5));
    }
  });

  it("refuses a truncated value, a string without its nul, a boolean that is neither 0 nor 1 and an array past the end", () => {
    expectMalformed(() => new WireReader(le("05000000 6162"), true, 0).read("s"));
    expectMalformed(() => new WireReader(le("02000000 616263"), true, 0).read("s"));
    expectMalformed(() => new WireReader(le("02000000"), true, 0).read("b"));
    expectMalformed(() => new WireReader(le("ffffff00 00000000"), true, 0).read("as"));
    expectMalformed(() => new WireReader(le("08000000 01000000"), true, 0).read("au"));
  });

  it("refuses a variant whose signature is not one complete type", () => {
    expectMalformed(() => new WireReader(le("02 7373 00 00000000"), true, 0).read("v"));
    expectMalformed(() => new WireReader(le("00 00"), true, 0).read("v"));
  });
});

describe("the session bus address", () => {
  it("takes the first unix socket of the list, path or abstract, with its escapes decoded", () => {
    expect(unixSocketPath("unix:path=/run/user/1000/bus")).toBe("/run/user/1000/bus");
    expect(unixSocketPath("tcp:host=localhost,port=1;unix:path=/tmp/a%20b,guid=0123")).toBe("/tmp/a b");
    expect(unixSocketPath("unix:abstract=/tmp/dbus-XYZ,guid=0123")).toBe("\0/tmp/dbus-XYZ");
  });

  it("names the address when it holds no unix socket", () => {
    expect(() => unixSocketPath("tcp:host=localhost,port=1")).toThrow(/names no unix socket/);
  });
});
