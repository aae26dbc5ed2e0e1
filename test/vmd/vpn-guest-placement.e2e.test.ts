import { mkdtemp, readFile, readlink, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa, type ResultPromise } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isAlive } from "../../src/vmd/qemu-process.js";
import { waitUntil } from "../helpers/daemons.js";
import { hasBinary, skipReason, stopProcess } from "../helpers/processes.js";
import { makeGeneration } from "../helpers/test-guest.js";
import { ensureTestUser, type TestUser } from "../helpers/test-user.js";
import { INTERNET_PREFIX, VpnHomes, type Home } from "../helpers/vpn-homes.js";

// A VPN run by the guest itself (placement "guest") needs QEMU's unrestricted user network. As the attacker, its
// guest tries to read a secret that its home serves on the loopback (10.0.2.2 was the host's 127.0.0.1, fec0::2
// its ::1) and on the home's address: it must read nothing, while it still reaches "the internet" (a server in
// the other home, a namespace the test made) — with a root clan-vmd and with a user's clan-vmd alike. The
// network's forward still brings the home's 127.0.0.1 to the guest (one whose port is taken is refused), and the
// namespace QEMU runs in goes away with the VM, also after clan-vmd restarted and re-adopted it.

const needs = ["ip", "qemu-system-x86_64", "dbus-daemon", "pasta", "nsenter", "socat", "useradd"];
const isRoot = process.getuid?.() === 0;
const SECRET_PORT = 46_000 + (process.pid % 1000);
const INTERNET_PORT = 45_000 + (process.pid % 1000);
const FORWARD_PORTS = { privileged: 44_000 + (process.pid % 1000), rootless: 43_000 + (process.pid % 1000) };
const SERVED = "served-by-the-guest";

interface GuestRecord {
  placement: "guest";
  namespace: { holderPid: number; pastaPid: number };
}

// The test guest runs no DHCP client: it configures QEMU's user network by hand, then reads each target.
function probeScript(targets: string[]): string {
  const probes = targets.map((target) => {
    const colon = target.lastIndexOf(":");
    return `echo "${target} => $(sleep 2 | timeout 8 nc -w 5 ${target.slice(0, colon)} ${target.slice(colon + 1)} 2>&1 | head -c 200)"`;
  });
  return [
    "ip link set lo up", "ip link set eth0 up", "ip addr add 10.0.2.15/24 dev eth0", "ip route add default via 10.0.2.2",
    "ip -6 addr add fec0::15/64 dev eth0 nodad", ...probes,
  ].join("\n");
}

describe.skipIf(!needs.every(hasBinary) || !isRoot)(`a VPN in the guest ${skipReason(...needs)}${isRoot ? "" : " (the test needs root to build its homes)"}`, () => {
  const homes = new VpnHomes(`cg${process.pid.toString(36)}`);
  const secret = `home-secret-${process.pid}`;
  const internet = `internet-${process.pid}`;
  let user: TestUser;
  let homeA: string;
  const vmds: Partial<Record<"privileged" | "rootless", Home>> = {};
  let generations: string;
  const servers: ResultPromise[] = [];

  beforeAll(async () => {
    user = await ensureTestUser();
    const [a, b] = await homes.createTwo();
    homeA = a;
    // Home a's own services: on every IPv4 address (its loopback and its address on the internet) and on ::1.
    servers.push(execa("ip", ["netns", "exec", a, "socat", `TCP-LISTEN:${SECRET_PORT},fork,reuseaddr`, `SYSTEM:echo ${secret}`], { reject: false }));
    servers.push(execa("ip", ["netns", "exec", a, "socat", `TCP6-LISTEN:${SECRET_PORT},bind=[::1],fork,reuseaddr`, `SYSTEM:echo ${secret}`], { reject: false }));
    // "The internet": a server in home b, which the guest's VPN would reach its peers through.
    servers.push(execa("ip", ["netns", "exec", b, "socat", `TCP-LISTEN:${INTERNET_PORT},fork,reuseaddr`, `SYSTEM:echo ${internet}`], { reject: false }));
    vmds.privileged = await homes.startVmd(a, `${INTERNET_PREFIX}.1`, ["roaming", "busy"]);
    vmds.rootless = await homes.startVmd(a, `${INTERNET_PREFIX}.1`, ["roaming"], user);
    generations = await mkdtemp(join(tmpdir(), "clan-vpn-guest-"));
    await execa("chmod", ["0755", generations]);
    for (const layout of ["privileged", "rootless"] as const) {
      const generation = await makeGeneration(join(generations, layout), {
        generation: layout,
        vm: {
          stateDiskMiB: 0,
          network: { mode: "vpn", forwards: [{ hostPort: FORWARD_PORTS[layout], guestPort: 7000 }], vpn: { kind: "wireguard", placement: "guest", address: "10.77.0.2", peers: [] } },
        },
      });
      expect((await vmds[layout]!.vms.start("roaming", generation)).state).toBe("running");
    }
  }, 180_000);

  afterAll(async () => {
    await homes.cleanUp(Object.values(vmds));
    for (const server of servers) await stopProcess(server);
    if (generations) await rm(generations, { recursive: true, force: true });
  });

  const guest = (layout: "privileged" | "rootless", script: string, seconds = 60) => vmds[layout]!.vms.guestExec("roaming", ["/bin/sh", "-c", script], seconds);
  const record = async (layout: "privileged" | "rootless") => JSON.parse(await readFile(join(vmds[layout]!.runtimeRoot, "roaming", "vpn.json"), "utf8")) as GuestRecord;
  const qemuPid = async (layout: "privileged" | "rootless") => (await vmds[layout]!.vms.list()).find((status) => status.network === "roaming")?.pid ?? 0;

  it.each(["privileged", "rootless"] as const)("%s: the guest reaches the internet and nothing on its home's loopback or address", async (layout) => {
    const targets = [`10.0.2.2:${SECRET_PORT}`, `fec0::2:${SECRET_PORT}`, `${INTERNET_PREFIX}.1:${SECRET_PORT}`, `${INTERNET_PREFIX}.2:${INTERNET_PORT}`];
    const probe = await guest(layout, probeScript(targets));
    expect(probe.exitCode).toBe(0);
    // The internet answers: the guest's VPN would reach its peers.
    expect(probe.stdout).toContain(`${INTERNET_PREFIX}.2:${INTERNET_PORT} => ${internet}`);
    // Each probe of the home ran and read nothing: the namespace's own loopback and address hold nothing there.
    for (const target of targets.slice(0, 3)) expect(probe.stdout).toMatch(new RegExp(`^${target.replaceAll(".", "\\.")} => (nc: [^\n]*)?$`, "m"));
    expect(probe.stdout).not.toContain(secret);
  }, 120_000);

  it.each(["privileged", "rootless"] as const)("%s: the network's forward brings the home's 127.0.0.1 to the guest", async (layout) => {
    const serve = await guest(layout, `(nc -ll -p 7000 -e /bin/echo ${SERVED} </dev/null >/dev/null 2>&1 &)`, 30);
    expect(serve.exitCode).toBe(0);
    const read = async () => (await execa("ip", ["netns", "exec", homeA, "socat", "-T", "5", "-", `TCP:127.0.0.1:${FORWARD_PORTS[layout]}`], { reject: false, input: "" })).stdout;
    expect(await waitUntil(async () => ((await read()).includes(SERVED) ? true : undefined), "the forward to reach the guest", 30_000)).toBe(true);
  }, 60_000);

  it.each(["privileged", "rootless"] as const)("%s: QEMU runs in a namespace of its own, as the VM's user, never root, with no capability", async (layout) => {
    const pid = await qemuPid(layout);
    const { namespace } = await record(layout);
    expect(await readlink(`/proc/${pid}/ns/net`)).toBe(await readlink(`/proc/${namespace.holderPid}/ns/net`));
    const homeHolder = (await execa("ip", ["netns", "pids", homeA])).stdout.split("\n")[0]!;
    expect(await readlink(`/proc/${pid}/ns/net`)).not.toBe(await readlink(`/proc/${homeHolder}/ns/net`));
    const status = await readFile(`/proc/${pid}/status`, "utf8");
    const uid = Number(/^Uid:\s+(\d+)/m.exec(status)?.[1]);
    expect(uid).toBeGreaterThan(0);
    if (layout === "rootless") expect(uid).toBe(user.uid);
    expect(status).toMatch(/^CapEff:\s+0+$/m);
    expect(status).toMatch(/^Seccomp:\s+2$/m);
    for (const helper of [namespace.holderPid, namespace.pastaPid]) expect(Number(/^Uid:\s+(\d+)/m.exec(await readFile(`/proc/${helper}/status`, "utf8"))?.[1])).toBe(uid);
  });

  it("a forward whose port the host already holds is refused with pasta's reason, and the daemon serves on", async () => {
    const busy = await makeGeneration(join(generations, "busy"), {
      generation: "busy",
      vm: { stateDiskMiB: 0, network: { mode: "vpn", forwards: [{ hostPort: SECRET_PORT, guestPort: 7000 }], vpn: { kind: "wireguard", placement: "guest", address: "10.77.0.2", peers: [] } } },
    });
    await expect(vmds.privileged!.vms.start("busy", busy)).rejects.toThrow(`127.0.0.1/${SECRET_PORT}`);
    expect((await vmds.privileged!.vms.list()).find((status) => status.network === "roaming")?.state).toBe("running");
  }, 60_000);

  it("a restarted clan-vmd re-adopts the namespace, and stopping the VM ends it", async () => {
    const { namespace } = await record("privileged");
    await vmds.privileged!.restartVmd();
    const adopted = (await vmds.privileged!.vms.list()).find((status) => status.network === "roaming");
    expect(adopted?.state).toBe("running");
    expect(adopted?.vpnState).toBe("in-guest");
    expect([namespace.holderPid, namespace.pastaPid].every(isAlive)).toBe(true);
    await vmds.privileged!.vms.stop("roaming");
    await waitUntil(async () => ([namespace.holderPid, namespace.pastaPid].some(isAlive) ? undefined : true), "the guest's namespace to go", 15_000);
    const rootless = (await record("rootless")).namespace;
    await vmds.rootless!.vms.stop("roaming");
    await waitUntil(async () => ([rootless.holderPid, rootless.pastaPid].some(isAlive) ? undefined : true), "the rootless guest's namespace to go", 15_000);
  }, 90_000);
});
