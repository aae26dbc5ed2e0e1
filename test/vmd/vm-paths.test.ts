import { describe, expect, it } from "vitest";
import { defaultDirectories, vmPaths } from "../../src/vmd/vm-paths.js";

// Socket paths must fit sockaddr_un (107 bytes and a NUL), and roots end up in QEMU option strings.

const STATE = "/var/lib/clan";
/** The longest socket name is the last waypipe port's, checked after the others. */
const LONGEST_SOCKET = "waypipe-15.sock";

/** A runtime root that makes <root>/<network>/<LONGEST_SOCKET> exactly `bytes` long. */
function runtimeRootFor(network: string, bytes: number): string {
  const fixed = `/${network}/${LONGEST_SOCKET}`.length;
  return `/${"r".repeat(bytes - fixed - 1)}`;
}

describe("vmPaths", () => {
  it("lays out runtime sockets and persistent state per network", () => {
    const paths = vmPaths({ runtimeRoot: "/run/user/1000/clan-vmd", stateRoot: STATE }, "alpha");
    expect(paths).toMatchObject({
      runtimeDir: "/run/user/1000/clan-vmd/alpha",
      qmpSocket: "/run/user/1000/clan-vmd/alpha/qmp.sock",
      guestAgentSocket: "/run/user/1000/clan-vmd/alpha/qga.sock",
      controlSocket: "/run/user/1000/clan-vmd/alpha/control.sock",
      spiceSocket: "/run/user/1000/clan-vmd/alpha/spice.sock",
      displayBusDir: "/run/user/1000/clan-vmd/alpha.dbus",
      displayBusSocket: "/run/user/1000/clan-vmd/alpha.dbus/bus",
      record: "/run/user/1000/clan-vmd/alpha/vm.json",
      stateDir: "/var/lib/clan/alpha",
      stateDisk: "/var/lib/clan/alpha/state.qcow2",
      consoleLog: "/var/lib/clan/alpha/console.log",
    });
    expect(paths.shareSocket("docs")).toBe("/run/user/1000/clan-vmd/alpha/fs-docs.sock");
    // Port 0 keeps the name of the time when a VM had one waypipe port: a restarted clan-vmd finds an old VM's.
    expect([0, 1, 15].map(paths.waypipeSocket)).toEqual(["waypipe.sock", "waypipe-1.sock", "waypipe-15.sock"].map((name) => `/run/user/1000/clan-vmd/alpha/${name}`));
  });

  it("accepts a socket path of exactly 107 bytes", () => {
    const paths = vmPaths({ runtimeRoot: runtimeRootFor("alpha", 107), stateRoot: STATE }, "alpha");
    expect(Buffer.byteLength(paths.waypipeSocket(15))).toBe(107);
  });

  it("refuses a socket path over 107 bytes and says what to shorten", () => {
    const runtimeRoot = runtimeRootFor("alpha", 108);
    expect(() => vmPaths({ runtimeRoot, stateRoot: STATE }, "alpha")).toThrow(
      expect.objectContaining({
        code: "InvalidArgument",
        message: `socket path ${runtimeRoot}/alpha/${LONGEST_SOCKET} is longer than 107 bytes; choose a shorter --runtime-dir`,
      }),
    );
  });

  it("counts bytes, not characters, of a non-ASCII runtime root", () => {
    const fits = runtimeRootFor("alpha", 107);
    // Two characters become two bytes each: the same length in characters is two bytes too long.
    const accented = `/éé${fits.slice(3)}`;
    expect(accented.length).toBe(fits.length);
    expect(() => vmPaths({ runtimeRoot: accented, stateRoot: STATE }, "alpha")).toThrow(/is longer than 107 bytes/);
  });

  it("refuses a share socket whose tag makes the path too long, when it is asked for", () => {
    const paths = vmPaths({ runtimeRoot: runtimeRootFor("alpha", 100), stateRoot: STATE }, "alpha");
    expect(() => paths.shareSocket("a-rather-long-share-tag")).toThrow(/is longer than 107 bytes/);
  });

  it.each([
    { runtimeRoot: "/run/a,b", stateRoot: STATE, bad: "/run/a,b" },
    { runtimeRoot: "/run/vmd", stateRoot: "/var/x,format=raw", bad: "/var/x,format=raw" },
    { runtimeRoot: "/run/new\nline", stateRoot: STATE, bad: "/run/new\nline" },
  ])("refuses a root that QEMU would split: $bad", ({ runtimeRoot, stateRoot, bad }) => {
    expect(() => vmPaths({ runtimeRoot, stateRoot }, "alpha")).toThrow(
      expect.objectContaining({ code: "InvalidArgument", message: `directory ${bad} must not contain ',' or control characters` }),
    );
  });
});

describe("defaultDirectories", () => {
  it("follows the XDG directories", () => {
    expect(defaultDirectories({ HOME: "/home/u", XDG_RUNTIME_DIR: "/run/user/1000", XDG_STATE_HOME: "/home/u/.state" })).toEqual({
      runtimeRoot: "/run/user/1000/clan-vmd",
      stateRoot: "/home/u/.state/clan-desktop/vms",
    });
  });

  it("falls back to ~/.local/state and a per-user directory in /tmp", () => {
    expect(defaultDirectories({ HOME: "/home/u" })).toEqual({
      runtimeRoot: `/tmp/clan-vmd-${process.getuid?.()}/clan-vmd`,
      stateRoot: "/home/u/.local/state/clan-desktop/vms",
    });
  });
});
