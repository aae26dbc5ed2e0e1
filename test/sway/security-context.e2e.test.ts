import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { skipReason } from "../helpers/processes.js";
import { startHeadlessSway, type HeadlessSway } from "../helpers/sway.js";
import { installedVersion, versionSkipReason } from "../helpers/versions.js";

// The base for filtering privileged Wayland protocols in the compositor: sway 1.9+ (wlroots 0.17+) offers
// wp_security_context_manager_v1, with which a trusted launcher marks the connections of a sandboxed client (a
// network VM's forwarded app windows) so that the compositor can refuse it privileged protocols. sway 1.7 (Debian
// 12) has no such protocol; sway 1.10 (the Debian 13 lane) does. wayland-info lists what a compositor advertises.

const SECURITY_CONTEXT_SINCE: [number, number, number] = [1, 9, 0];
const skip = versionSkipReason("sway", installedVersion("sway"), SECURITY_CONTEXT_SINCE) || skipReason("wayland-info", "setpriv");

describe.skipIf(skip !== "")(`sway's security context protocol${skip}`, () => {
  let sway: HeadlessSway;

  beforeAll(async () => {
    sway = await startHeadlessSway();
  });
  afterAll(async () => {
    await sway?.stop();
  });

  it("is advertised to Wayland clients, next to the privileged protocols it can withhold", async () => {
    const info = await execa("wayland-info", [], { env: { WAYLAND_DISPLAY: sway.waylandDisplay, XDG_RUNTIME_DIR: sway.runtimeDir }, reject: false, all: true });
    expect(info.exitCode, info.all).toBe(0);
    const globals = [...info.stdout.matchAll(/interface: '([a-z0-9_]+)'/g)].map((match) => match[1]);
    expect(globals).toContain("wp_security_context_manager_v1");
    // What a sandboxed client must not get: other clients' screen contents and input injection.
    expect(globals).toEqual(expect.arrayContaining(["zwlr_screencopy_manager_v1", "zwp_virtual_keyboard_manager_v1"]));
  });
});
