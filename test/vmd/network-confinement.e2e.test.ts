import { readFile, stat } from "node:fs/promises";
import { createConnection, createServer, type AddressInfo, type Server } from "node:net";
import { networkInterfaces } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitUntil } from "../helpers/daemons.js";
import { hasBinary, skipReason } from "../helpers/processes.js";
import { startVmdStack, type VmdStack } from "../helpers/vmd-stack.js";
import { makeGeneration } from "../helpers/test-guest.js";

// The guest as the attacker: a VM in network mode "user" tries to read a secret from a service the host binds on
// its loopback and on its own address, and to reach another network's forwarded port. QEMU's 10.0.2.2 is the
// host's loopback, so without restrict=on both succeed. A second attacker, a VM whose user networking is
// unconfined (a VPN run by the guest itself), must read nothing either: its QEMU runs in a namespace of its own,
// whose loopback is not the host's. That each probe does read a target that answers is shown by a listener the
// guest runs on its own address (vpn-guest-placement.e2e.test.ts shows the same probes reading the host's
// services through an unconfined QEMU that runs in the host's namespace).

const needs = ["qemu-system-x86_64", "dbus-daemon"];
const SERVED = "served-by-the-guest";
const OWN = "the-guest-itself";

/** A host service that hands every client a secret and hangs up; bound on every address, loopback included. */
function secretService(secret: string): Promise<Server> {
  const server = createServer((socket) => socket.end(`${secret}\n`));
  return new Promise((resolve) => server.listen(0, "0.0.0.0", () => resolve(server)));
}

function hostAddress(): string {
  const address = Object.values(networkInterfaces())
    .flat()
    .find((entry) => entry && entry.family === "IPv4" && !entry.internal)?.address;
  if (!address) throw new Error("this host has no non-loopback IPv4 address to probe");
  return address;
}

/** What a TCP client on the host reads from 127.0.0.1:port until the server hangs up. */
function readFromHost(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    const socket = createConnection({ host: "127.0.0.1", port }, () => socket.end());
    socket.on("data", (chunk: Buffer) => (text += chunk.toString()));
    socket.on("close", () => resolve(text));
    socket.on("error", reject);
  });
}

// The guest configures QEMU's user network by hand (the test guest runs no DHCP client) and reads each target.
function probeScript(targets: string[]): string {
  const probes = targets.map((target) => {
    const [host, port] = target.split(":");
    return `echo "${target} => $(sleep 2 | timeout 8 nc -w 5 ${host} ${port} 2>&1 | head -c 200)"`;
  });
  return ["ip link set lo up", "ip link set eth0 up", "ip addr add 10.0.2.15/24 dev eth0", "ip route add default via 10.0.2.2", ...probes].join("\n");
}

describe.skipIf(!needs.every(hasBinary))(`a VM reaches only what its network mode grants ${skipReason(...needs)}`, () => {
  let stack: VmdStack;
  let root: string;
  let secret: Server;
  const secretText = `host-secret-${process.pid}-${Date.now()}`;
  const forwardPort = 20_000 + (process.pid % 20_000);

  beforeAll(async () => {
    secret = await secretService(secretText);
    stack = await startVmdStack({ tmpPrefix: "clan-netconf-" });
    root = stack.root;
  });

  afterAll(async () => {
    await stack?.stop();
    secret?.close();
  });

  it("mode user, and a VPN in the guest, reach neither the host's loopback, nor the host, nor another network's forward; a forward works", async () => {
    const secretPort = (secret.address() as AddressInfo).port;
    const generation = (name: string, vm: Record<string, unknown>) => makeGeneration(join(root, name), { generation: name, vm: { stateDiskMiB: 0, ...vm } });
    const [server, attacker, control] = await Promise.all([
      generation("server", { network: { mode: "user", forwards: [{ hostPort: forwardPort, guestPort: 7000 }] } }),
      generation("attacker", {}),
      generation("guestvpn", { network: { mode: "vpn", vpn: { kind: "wireguard", placement: "guest", address: "10.77.0.2", peers: [] } } }),
    ]);
    const started = await Promise.all([stack.api.start("ncserver", server), stack.api.start("ncattack", attacker), stack.api.start("ncguestvpn", control)]);
    expect(started.map((status) => status.state)).toEqual(["running", "running", "running"]);

    // The server network's guest answers on its forwarded port; the host reaches it through its forward.
    const serve = await stack.api.guestExec("ncserver", ["/bin/sh", "-c", `ip link set lo up; ip link set eth0 up; ip addr add 10.0.2.15/24 dev eth0
      (nc -ll -p 7000 -e /bin/echo ${SERVED} </dev/null >/dev/null 2>&1 &)`], 30);
    expect(serve.exitCode).toBe(0);
    expect(await waitUntil(async () => ((await readFromHost(forwardPort).catch(() => "")).includes(SERVED) ? true : undefined), "the server's own forward", 30_000)).toBe(true);

    const targets = [`10.0.2.2:${secretPort}`, `${hostAddress()}:${secretPort}`, `10.0.2.2:${forwardPort}`];
    // The control: each guest serves on its own address, and the same probe reads it.
    const ownListener = `(nc -ll -p 7001 -e /bin/echo ${OWN} </dev/null >/dev/null 2>&1 &)`;
    const runs = await Promise.all(
      ["ncattack", "ncguestvpn"].map((network) => stack.api.guestExec(network, ["/bin/sh", "-c", `${ownListener}\n${probeScript([...targets, "10.0.2.15:7001"])}`], 60)),
    );
    for (const run of runs) {
      expect(run.stdout).toContain(`10.0.2.15:7001 => ${OWN}`);
      // Each probe ran and read nothing: slirp refuses the connection (or it times out).
      for (const target of targets) expect(run.stdout).toMatch(new RegExp(`^${target.replaceAll(".", "\\.")} => (nc: can't connect[^\n]*)?$`, "m"));
      expect(run.stdout).not.toContain(secretText);
      expect(run.stdout).not.toContain(SERVED);
    }
  }, 240_000);

  const qemuPid = async (network: string) => (await stack.api.list()).find((status) => status.network === network)?.pid ?? 0;

  it("QEMU runs under its seccomp sandbox", async () => {
    const pid = await qemuPid("ncattack");
    const status = await readFile(`/proc/${pid}/status`, "utf8");
    expect(status).toMatch(/^Seccomp:\s+2$/m);
    expect(status).toMatch(/^NoNewPrivs:\s+1$/m);
    const cmdline = (await readFile(`/proc/${pid}/cmdline`, "utf8")).split("\0");
    expect(cmdline[cmdline.indexOf("-sandbox") + 1]).toBe("on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny");
  });

  it.skipIf(process.geteuid?.() !== 0)("a root clan-vmd runs each network's QEMU as a uid of its own, never root", async () => {
    const uids = await Promise.all(
      ["ncattack", "ncserver"].map(async (network) => Number((await execa("ps", ["-o", "uid=", "-p", String(await qemuPid(network))])).stdout.trim())),
    );
    for (const uid of uids) expect(uid).toBeGreaterThan(0);
    expect(uids[0]).not.toBe(uids[1]);
    // The runtime directory is the VM's; the state directory, with the VPN keys, stays root's.
    expect((await stat(join(root, "run", "ncattack"))).uid).toBe(uids[0]);
    expect((await stat(join(root, "state", "ncattack"))).uid).toBe(0);
  });
});
