import { chown, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sessionBus, type MessageBus } from "@jellybrick/dbus-next";
import { execa, type ResultPromise } from "execa";
import { VmdClient } from "../../src/shared/vmd-client.js";
import { namespaceNames } from "../../src/vmd/vpn/namespace.js";
import { REPO } from "./daemons.js";
import { stopProcess, collectOutput } from "./processes.js";
import { startSessionBus, type SessionBus } from "./session-bus.js";
import type { TestUser } from "./test-user.js";

// "Homes" for VPN tests: network namespaces made by the test, joined by a veth pair that plays the internet
// (198.51.100.0/24, a documentation range), each with its own clan-vmd. Traffic never leaves these namespaces.
// Everything created is registered, so that cleanUp() removes it however far a test got.

export const INTERNET_PREFIX = "198.51.100";

export interface Home {
  namespace: string;
  /** The home's address on the "internet". */
  address: string;
  runtimeRoot: string;
  busAddress: string;
  vms: VmdClient;
  output: () => string;
  /** Restarts the home's clan-vmd, which re-adopts the running VMs; `vms` then talks to the new one. */
  restartVmd(): Promise<void>;
}

export class VpnHomes {
  private readonly namespaces: string[] = [];
  private readonly daemons: ResultPromise[] = [];
  private readonly buses: SessionBus[] = [];
  private readonly clients: MessageBus[] = [];
  private readonly directories: string[] = [];
  private readonly networksByRoot = new Map<string, Set<string>>();

  constructor(private readonly prefix: string) {}

  /** Two homes, a and b, with a veth "internet" between them. */
  async createTwo(): Promise<[string, string]> {
    const [a, b] = [`${this.prefix}a`, `${this.prefix}b`];
    for (const namespace of [a, b]) {
      await execa("ip", ["netns", "add", namespace]);
      this.namespaces.push(namespace);
      await execa("ip", ["-n", namespace, "link", "set", "lo", "up"]);
    }
    await execa("ip", ["-n", a, "link", "add", "inet0", "type", "veth", "peer", "name", "inet0", "netns", b]);
    for (const [namespace, host] of [[a, 1], [b, 2]] as const) {
      await execa("ip", ["-n", namespace, "address", "add", `${INTERNET_PREFIX}.${host}/24`, "dev", "inet0"]);
      await execa("ip", ["-n", namespace, "link", "set", "inet0", "up"]);
      // Each home's way to "the internet" is the other home: pasta (rootless VPNs) copies a home's default route.
      await execa("ip", ["-n", namespace, "route", "add", "default", "via", `${INTERNET_PREFIX}.${3 - host}`]);
    }
    return [a, b];
  }

  /**
   * A clan-vmd inside the home, on a bus of its own, that will run `networks`; as `user` when given (then without
   * privileges: its VPNs run in rootless namespaces).
   */
  async startVmd(namespace: string, address: string, networks: string[], user?: TestUser): Promise<Home> {
    const bus = await startSessionBus(user);
    this.buses.push(bus);
    const root = await mkdtemp(join(tmpdir(), "clan-home-"));
    this.directories.push(root);
    if (user) await chown(root, user.uid, user.gid);
    const runtimeRoot = join(root, "run");
    this.networksByRoot.set(runtimeRoot, new Set(networks));
    const asUser = user ? ["setpriv", `--reuid=${user.uid}`, `--regid=${user.gid}`, "--init-groups"] : [];
    const args = ["netns", "exec", namespace, ...asUser, "node", `${REPO}/bin/clan-vmd.js`, "--runtime-dir", runtimeRoot, "--state-dir", join(root, "state"), "--accel", "tcg", "--powerdown-timeout", "1"];
    const env = { ...process.env, DBUS_SESSION_BUS_ADDRESS: bus.address, ...(user ? { HOME: root, XDG_RUNTIME_DIR: root } : {}) };
    const launch = async () => {
      const daemon = execa("ip", args, { env, reject: false, stdin: "ignore" });
      this.daemons.push(daemon);
      const output = collectOutput(daemon);
      const deadline = Date.now() + 15_000;
      while (!/serving org\.clan\.Desktop\.VMs1/.test(output())) {
        if (Date.now() > deadline || daemon.exitCode !== null) throw new Error(`clan-vmd in ${namespace} did not start:\n${output()}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const client = sessionBus({ busAddress: bus.address });
      this.clients.push(client);
      return { daemon, output, vms: await VmdClient.connect(client) };
    };
    let current = await launch();
    const home: Home = {
      namespace,
      address,
      runtimeRoot,
      busAddress: bus.address,
      vms: current.vms,
      output: () => current.output(),
      restartVmd: async () => {
        // SIGTERM: clan-vmd exits and leaves its VMs running, for the next one to re-adopt.
        await stopProcess(current.daemon);
        current = await launch();
        home.vms = current.vms;
      },
    };
    return home;
  }

  /** Namespaces whose name starts with `clan-`: what clan-vmd instances made. */
  static async clanNamespaces(): Promise<string[]> {
    const { stdout } = await execa("ip", ["netns", "list"]);
    return stdout.split("\n").map((line) => line.split(" ")[0]!).filter((name) => name.startsWith("clan-"));
  }

  /** Stops every VM and daemon, and removes whatever a VPN left if a daemon could not. */
  async cleanUp(homes: Home[]): Promise<void> {
    for (const home of homes) await home.vms.stopAll().catch(() => undefined);
    for (const client of this.clients) client.disconnect();
    for (const daemon of this.daemons) await stopProcess(daemon);
    for (const [runtimeRoot, networks] of this.networksByRoot) {
      for (const network of networks) {
        const record = await readFile(join(runtimeRoot, network, "vpn.json"), "utf8").catch(() => undefined);
        if (record) {
          // A VPN in a host namespace, or the namespace of a VPN in the guest (guest-namespace.ts).
          const { endpointPid, access, namespace } = JSON.parse(record) as {
            endpointPid?: number;
            access?: { outerPid?: number; innerPid?: number; pastaPid?: number };
            namespace?: { holderPid: number; pastaPid: number };
          };
          for (const pid of [endpointPid, access?.pastaPid, access?.innerPid, access?.outerPid, namespace?.pastaPid, namespace?.holderPid]) if (pid) killIfRunning(pid);
        }
        await execa("ip", ["netns", "delete", namespaceNames(runtimeRoot, network).namespace], { reject: false });
      }
    }
    for (const namespace of this.namespaces) await execa("ip", ["netns", "delete", namespace], { reject: false });
    for (const bus of this.buses) await bus.stop();
    for (const dir of this.directories) await rm(dir, { recursive: true, force: true });
  }
}

function killIfRunning(pid: number): void {
  try {
    process.kill(pid, "SIGKILL");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
}
