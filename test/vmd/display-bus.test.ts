import { describe, expect, it } from "vitest";
import { busAddress } from "../../src/shared/dbus-address.js";
import { displayBusConfig } from "../../src/vmd/display-bus.js";

// The VM's display bus: its address as D-Bus spells it, and a policy that lets QEMU own org.qemu and nothing else.

describe("busAddress", () => {
  it("keeps the characters an address may hold and escapes every other byte", () => {
    expect(busAddress("/run/user/1000/clan-vmd/alpha.dbus/bus")).toBe("unix:path=/run/user/1000/clan-vmd/alpha.dbus/bus");
    expect(busAddress("/tmp/a b;c=d,é/bus")).toBe("unix:path=/tmp/a%20b%3bc%3dd%2c%c3%a9/bus");
  });
});

describe("displayBusConfig", () => {
  const config = displayBusConfig("unix:path=/run/vmd/alpha.dbus/bus");

  it("listens on the one address it is given and activates nothing", () => {
    expect(config.match(/<listen>/g)).toHaveLength(1);
    expect(config).toContain("<listen>unix:path=/run/vmd/alpha.dbus/bus</listen>");
    expect(config).not.toMatch(/servicedir|include/);
  });

  it("lets org.qemu be owned and no other name", () => {
    expect(config.match(/<allow own[^>]*>/g)).toEqual(['<allow own="org.qemu"/>']);
    expect(config).not.toMatch(/own_prefix/);
  });
});
