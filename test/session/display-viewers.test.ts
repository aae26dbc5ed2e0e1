import { EventEmitter } from "node:events";
import { readFileSync } from "node:fs";
import type { Socket } from "node:net";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ConfigSchema } from "../../src/session/config/schema.js";
import { DisplayViewers } from "../../src/session/display-viewers.js";
import { NetworkRegistry } from "../../src/session/network-registry.js";
import type { BackendEvents, WindowManagerBackend, WindowPlacement } from "../../src/session/window-manager-backend.js";
import { VmStatus } from "../../src/shared/vm-api.js";
import { acceptsConnections, waitFor, within } from "../helpers/processes.js";
import { listenOnTempSocket } from "../helpers/socket-peer.js";
import { WAYPIPE_SESSION_HEADER } from "../../src/session/waypipe-bridge.js";

// How clan-sessiond starts, claims and stops a VM's waypipe client, and how it refuses when it cannot. The real
// waypipe on real sway is test/session/waypipe.e2e.test.ts; here a stand-in script records its argv and starts
// a child, as waypipe client forks one per session, so that stopping the whole process group is visible.

const STAND_IN = `#!/bin/sh
printf '%s\\n' "$@" >"$RECORD.args"
sleep 600 &
echo $! >"$RECORD.child"
wait
`;

// clan-wayland-filter's stand-in records its argv and runs the command after "--" in its place (the real filter is
// test/session/wayland-filter.test.ts and .e2e.test.ts).
const FILTER_STAND_IN = `#!/bin/sh
printf '%s\\n' "$@" >"$RECORD.filter-args"
while [ "$1" != "--" ]; do shift; done
shift
exec "$@"
`;

class RecordingBackend extends EventEmitter<BackendEvents> implements WindowManagerBackend {
  readonly kind = "recording";
  readonly claims = new Map<number, WindowPlacement>();
  focusedWorkspace = async () => undefined;
  focusWorkspace = async () => undefined;
  async claimWindowsOf(pid: number, placement: WindowPlacement): Promise<void> {
    this.claims.set(pid, placement);
  }
  releaseWindowsOf(pid: number): void {
    this.claims.delete(pid);
  }
  close = async () => undefined;
}

describe("DisplayViewers with a waypipe display", () => {
  let dir: string;
  let logs: string[];
  let backend: RecordingBackend;
  let viewers: DisplayViewers | undefined;
  let pidChanges: Record<string, number>[];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "clan-viewers-"));
    logs = [];
    pidChanges = [];
    backend = new RecordingBackend();
    await writeFile(join(dir, "waypipe"), STAND_IN, { mode: 0o755 });
    await writeFile(join(dir, "clan-wayland-filter"), FILTER_STAND_IN, { mode: 0o755 });
    process.env.RECORD = join(dir, "record");
  });

  afterEach(async () => {
    viewers?.closeAll();
    delete process.env.RECORD;
    await rm(dir, { recursive: true, force: true });
  });

  function start(options: { runtimeDir?: string | undefined; waypipeBinary?: string; waylandFilter?: string } = {}): DisplayViewers {
    const registry = new NetworkRegistry();
    registry.applyConfig(
      ConfigSchema.parse({
        networks: { family: { label: "Family", workspaces: ["2:family"], colour: "#2e7dbf", source: { profile: "/p/family" } } },
      }),
    );
    viewers = new DisplayViewers({
      registry,
      backend: () => backend,
      viewerBinary: "remote-viewer",
      dbusViewer: ["/nonexistent/clan-viewer"],
      waypipeBinary: options.waypipeBinary ?? join(dir, "waypipe"),
      waylandFilter: options.waylandFilter ?? join(dir, "clan-wayland-filter"),
      runtimeDir: "runtimeDir" in options ? options.runtimeDir : join(dir, "run", "clan-sessiond"),
      pidsChanged: () => pidChanges.push(viewers!.pids()),
      log: (message) => logs.push(message),
    });
    return viewers;
  }

  const vm = (state: VmStatus["state"]): VmStatus =>
    VmStatus.parse({
      network: "family",
      state,
      generation: "/g",
      pid: 1,
      accelerator: "tcg",
      since: 0,
      error: "",
      display: "waypipe",
      displaySocket: join(dir, "vm", "waypipe.sock"),
    });

  it("starts `waypipe --no-gpu -s <its socket> client` behind clan-wayland-filter in a private directory and claims the filter's windows by pid", async () => {
    const displays = start();
    displays.vmChanged(vm("running"));
    const pid = displays.pidOf("family");
    expect(pid).toBeGreaterThan(0);
    const args = await waitFor("the stand-in's argv", () => readFile(join(dir, "record.args"), "utf8").catch(() => undefined));
    const socket = join(dir, "run", "clan-sessiond", "family-waypipe.sock");
    expect(args.trim().split("\n")).toEqual(["--no-gpu", "-s", socket, "client"]);
    const filterArgs = (await readFile(join(dir, "record.filter-args"), "utf8")).trim().split("\n");
    expect(filterArgs).toEqual(["--listen", join(dir, "run", "clan-sessiond", "family-wayland.sock"), "--app-id", "family", "--", join(dir, "waypipe"), "--no-gpu", "-s", socket, "client"]);
    expect((await stat(join(dir, "run", "clan-sessiond"))).mode & 0o777).toBe(0o700);
    expect(backend.claims.get(pid!)).toEqual({ network: "family", workspace: "2:family", label: "Family", colour: "#2e7dbf" });
  });

  it("stops the client and the children it forked when the VM stops, and releases its windows", async () => {
    const displays = start();
    displays.vmChanged(vm("running"));
    const pid = displays.pidOf("family")!;
    const child = Number(await waitFor("the stand-in's child", () => readFile(join(dir, "record.child"), "utf8").catch(() => undefined)));
    displays.vmChanged(vm("stopping"));
    expect(displays.pidOf("family")).toBeUndefined();
    expect(backend.claims.has(pid)).toBe(false);
    // Published for window managers that place windows themselves (GNOME's ViewerPids property).
    expect(pidChanges).toEqual([{ family: pid }, {}]);
    await waitFor("the client and its child to exit", () => (!isRunning(pid) && !isRunning(child) ? true : undefined));
  });

  it("makes a runtime directory that others could read private again", async () => {
    await mkdir(join(dir, "run", "clan-sessiond"), { recursive: true, mode: 0o755 });
    await chmod(join(dir, "run", "clan-sessiond"), 0o755);
    start().vmChanged(vm("running"));
    expect((await stat(join(dir, "run", "clan-sessiond"))).mode & 0o777).toBe(0o700);
  });

  it("says why it shows nothing without XDG_RUNTIME_DIR", () => {
    const displays = start({ runtimeDir: undefined });
    displays.vmChanged(vm("running"));
    expect(displays.pidOf("family")).toBeUndefined();
    expect(logs).toEqual([expect.stringMatching(/family: cannot show the VM's waypipe display: XDG_RUNTIME_DIR is not set/)]);
  });

  it("refuses a socket path longer than a unix socket address holds", () => {
    const displays = start({ runtimeDir: join(dir, "x".repeat(100)) });
    displays.vmChanged(vm("running"));
    expect(displays.pidOf("family")).toBeUndefined();
    expect(logs.join("\n")).toMatch(/longer than 107 bytes/);
  });

  it("shows nothing without clan-wayland-filter, and says so", () => {
    const displays = start({ waylandFilter: join(dir, "no-such-filter") });
    displays.vmChanged(vm("running"));
    expect(displays.pidOf("family")).toBeUndefined();
    expect(logs).toEqual([expect.stringMatching(/family: cannot show the VM's waypipe display: clan-wayland-filter is missing/)]);
  });

  it("bridges each of the VM's waypipe ports into the client on a connection of its own, and says when every port carries an app", async () => {
    // waypipe client's stand-in echoes each connection back: a session's bytes come back on its own port only.
    await writeFile(join(dir, "waypipe"), `#!/bin/sh\nexec socat UNIX-LISTEN:"$3",fork,unlink-early EXEC:cat\n`, { mode: 0o755 });
    const ports = [await listenOnTempSocket(), await listenOnTempSocket()];
    try {
      const displays = start();
      displays.vmChanged(VmStatus.parse({ ...vm("running"), displaySocket: ports[0]!.path, waypipeSockets: ports.map((port) => port.path) }));
      const [first, second] = await Promise.all(ports.map((port) => within(port.nextConnection(), 5000, "the bridge of each port")));
      // The stand-in must listen before a session's first bytes make the bridge connect to it.
      const clientSocket = join(dir, "run", "clan-sessiond", "family-waypipe.sock");
      await waitFor("the stand-in's socket", async () => ((await acceptsConnections(clientSocket)) ? true : undefined));
      first!.write(`${WAYPIPE_SESSION_HEADER}first app`);
      second!.write(`${WAYPIPE_SESSION_HEADER}second app`);
      expect(await receive(first!, "first app".length)).toBe("first app");
      expect(await receive(second!, "second app".length)).toBe("second app");
      expect(logs.filter((line) => line.includes("carry an app"))).toEqual([
        "family: all 2 waypipe ports carry an app; the VM cannot show another app until one of them closes (vm.json waypipe.ports)",
      ]);
      // One app's session ends (its port dropped): the other goes on.
      first!.destroy();
      await waitFor("the first session's end", () => (logs.some((line) => /family: waypipe session on port 0 ended/.test(line)) ? true : undefined));
      second!.write("still here");
      expect(await receive(second!, "still here".length)).toBe("still here");
    } finally {
      await Promise.all(ports.map((port) => port.close()));
    }
  });

  it("logs a waypipe client that cannot start and tries again when the user enters the network", async () => {
    const displays = start({ waypipeBinary: join(dir, "no-such-waypipe") });
    displays.vmChanged(vm("running"));
    const failures = () => logs.filter((line) => /clan-wayland-filter \(waypipe client\) exited with 127/.test(line)).length;
    await waitFor("the failure to be logged", () => (failures() === 1 ? true : undefined));
    expect(displays.pidOf("family")).toBeUndefined();
    displays.networkEntered("family");
    await waitFor("the second attempt", () => (failures() === 2 ? true : undefined));
  });

});

/** A zombie counts as exited: an orphaned child is reaped by whatever PID 1 this machine has, if any. */
function isRunning(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
    throw error;
  }
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0] !== "Z";
}

// clan-viewer's stand-in records its argv (one file per start) and then behaves as the file "$RECORD.exit" says:
// runs on when it is missing, or exits with the status written in it.
const VIEWER_STAND_IN = `#!/bin/sh
n=$(ls "$RECORD".args.* 2>/dev/null | wc -l)
printf '%s\\n' "$@" >"$RECORD.args.$n"
if [ -f "$RECORD.exit" ]; then echo "clan-viewer: stand-in says $(cat "$RECORD.exit")" >&2; exit "$(cat "$RECORD.exit")"; fi
exec sleep 600
`;

describe("DisplayViewers with a dbus display (clan-viewer)", () => {
  let dir: string;
  let logs: string[];
  let backend: RecordingBackend;
  let viewers: DisplayViewers | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "clan-dbus-viewers-"));
    logs = [];
    backend = new RecordingBackend();
    await writeFile(join(dir, "clan-viewer"), VIEWER_STAND_IN, { mode: 0o755 });
    process.env.RECORD = join(dir, "record");
  });

  afterEach(async () => {
    viewers?.closeAll();
    delete process.env.RECORD;
    await rm(dir, { recursive: true, force: true });
  });

  function start(): DisplayViewers {
    const registry = new NetworkRegistry();
    registry.applyConfig(
      ConfigSchema.parse({
        networks: { family: { label: "Family", workspaces: ["2:family"], colour: "#2e7dbf", source: { profile: "/p/family" } } },
      }),
    );
    viewers = new DisplayViewers({
      registry,
      backend: () => backend,
      viewerBinary: "remote-viewer",
      dbusViewer: [join(dir, "clan-viewer")],
      waypipeBinary: "waypipe",
      waylandFilter: "/nonexistent/clan-wayland-filter",
      runtimeDir: join(dir, "run"),
      pidsChanged: () => undefined,
      log: (message) => logs.push(message),
    });
    return viewers;
  }

  const vm = (state: VmStatus["state"]): VmStatus =>
    VmStatus.parse({ network: "family", state, generation: "/g", pid: 1, accelerator: "tcg", since: 0, error: "", display: "dbus", displaySocket: "/run/vmd/family.dbus/bus" });
  const starts = async () => (await readdir(dir)).filter((name) => name.startsWith("record.args.")).length;
  const exitWith = (code: number) => writeFile(join(dir, "record.exit"), String(code));

  it("starts clan-viewer on the VM's display bus with the user's label and colour, and claims its windows", async () => {
    const displays = start();
    displays.vmChanged(vm("running"));
    const pid = displays.pidOf("family")!;
    const args = await waitFor("the stand-in's argv", () => readFile(join(dir, "record.args.0"), "utf8").catch(() => undefined));
    expect(args.trim().split("\n")).toEqual(["--address", "unix:path=/run/vmd/family.dbus/bus", "--label", "Family", "--colour", "#2e7dbf"]);
    expect(backend.claims.get(pid)).toEqual({ network: "family", workspace: "2:family", label: "Family", colour: "#2e7dbf" });
  });

  it("starts it again when it fails while the VM runs, and not once the VM has stopped", async () => {
    const displays = start();
    await exitWith(1);
    displays.vmChanged(vm("running"));
    await waitFor("a second start", async () => ((await starts()) >= 2 ? true : undefined), 10_000);
    expect(logs.some((line) => line.includes("clan-viewer ended while the VM runs"))).toBe(true);
    displays.vmChanged(vm("stopped"));
    const after = await starts();
    await new Promise((resolve) => setTimeout(resolve, 2500));
    expect(await starts()).toBe(after);
  });

  it("says once that clan-viewer cannot run here, and does not start it again", async () => {
    const displays = start();
    await exitWith(69);
    displays.vmChanged(vm("running"));
    await waitFor("the notice", () => (logs.some((line) => line.includes("cannot run on this host")) ? true : undefined));
    displays.vmChanged(vm("stopped"));
    displays.vmChanged(vm("running"));
    displays.networkEntered("family");
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await starts()).toBe(1);
    expect(logs.filter((line) => line.includes("cannot run on this host"))).toHaveLength(1);
  });

  it("leaves it closed when the user closed it (exit 0), until the user enters the network again", async () => {
    const displays = start();
    await exitWith(0);
    displays.vmChanged(vm("running"));
    await waitFor("the viewer to exit", () => (displays.pidOf("family") === undefined ? true : undefined));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(await starts()).toBe(1);
    await rm(join(dir, "record.exit"));
    displays.networkEntered("family");
    await waitFor("the start on entering", async () => ((await starts()) === 2 ? true : undefined));
  });
});

async function receive(socket: Socket, length: number): Promise<string> {
  let received = "";
  for await (const chunk of socket.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    received += chunk.toString("utf8");
    if (received.length >= length) break;
  }
  return received;
}
