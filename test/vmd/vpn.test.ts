import { describe, expect, it } from "vitest";
import { type Generation } from "../../src/vmd/generation.js";
import { VmSpec } from "../../src/shared/vm-spec.js";
import { qemuArguments } from "../../src/vmd/qemu-command.js";
import { vmPaths } from "../../src/vmd/vm-paths.js";
import { blockedSetCommand, namespaceRuleset } from "../../src/vmd/vpn/firewall.js";
import { intoEndpointSide, intoNetwork, networkNamespaceTarget, qemuIntoNetwork } from "../../src/vmd/vpn/namespace-access.js";
import { canCreateNamespaces, namespaceNames } from "../../src/vmd/vpn/namespace.js";
import { peerHosts } from "../../src/vmd/vpn/network-vpn.js";
import { qemuIntoGuestNamespace } from "../../src/vmd/vpn/guest-namespace.js";
import { WireguardVpn } from "../../src/shared/vpn-spec.js";
import { parseWireguardDump } from "../../src/vmd/vpn/wireguard-endpoint.js";

// The pure parts of the host-side VPN: what vm.json may say, the names, the QEMU arguments, the firewall and
// the reading of `wg show dump`. vpn.e2e.test.ts runs them for real.

const KEY = "xTIBA5rboUvnH4htodjb6e697QjLERt1NAB4mZqp8Dg=";
const vpn = (extra: Record<string, unknown> = {}) => ({
  mode: "vpn",
  vpn: { kind: "wireguard", address: "10.77.0.2", peers: [{ name: "bob", publicKey: KEY, endpoint: "198.51.100.2:51820", allowedIps: ["10.77.0.3/32"] }], ...extra },
});
const problem = (network: unknown) => {
  const result = VmSpec.safeParse({ network });
  return result.success ? "accepted" : result.error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ");
};

describe("vm.json network mode vpn", () => {
  it("fills in defaults: placement auto, port 51820, keepalive 25 s", () => {
    const spec = VmSpec.parse({ network: vpn() }).network.vpn;
    expect(spec).toMatchObject({ kind: "wireguard", placement: "auto", listenPort: 51820, peers: [{ persistentKeepaliveSeconds: 25 }] });
  });

  it("requires vpn settings with mode vpn, and only then", () => {
    expect(problem({ mode: "vpn" })).toContain('network.vpn is required with mode "vpn"');
    expect(problem({ mode: "user", vpn: vpn().vpn })).toContain("only then");
  });

  it.each([
    [{ address: "10.77.0.2; reboot" }, "IPv4 address"],
    [{ address: "169.254.0.1" }, "other than 169.254.0.1"],
    [{ address: "127.0.0.1" }, "unicast"],
    [{ peers: [{ name: "bob", publicKey: "not-a-key", allowedIps: ["10.77.0.3/32"] }] }, "WireGuard public key"],
    [{ peers: [{ name: "Bob Smith", publicKey: KEY, allowedIps: ["10.77.0.3/32"] }] }, "peer name"],
    [{ peers: [{ name: "bob", publicKey: KEY, allowedIps: ["10.77.0.3/33"] }] }, "IPv4 prefix"],
    [{ peers: [{ name: "bob", publicKey: KEY, allowedIps: ["10.77.0.3/32"], endpoint: "$(id):1" }] }, "host:port"],
    [{ peers: [{ name: "bob", publicKey: KEY, allowedIps: ["10.77.0.3/32"], endpoint: "example.org:70000" }] }, "1–65535"],
    [{ kind: "openvpn" }, "kind"],
  ])("refuses %j", (change, expected) => {
    expect(problem({ ...vpn(), vpn: { ...vpn().vpn, ...change } })).toContain(expected);
  });
});

describe("the namespace of a VPN in the guest", () => {
  const drop = ["setpriv", "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"];

  it("a user's clan-vmd enters it as itself and QEMU keeps no capability there", () => {
    expect(qemuIntoGuestNamespace(undefined, { holderPid: 41, pastaPid: 42 })).toEqual(["nsenter", "--preserve-credentials", "-t", "41", "--user", "--net", "--", ...drop]);
  });

  it("a root clan-vmd enters it as the network's uid, whose namespace it is, never as root", () => {
    const prefix = qemuIntoGuestNamespace({ uid: 1_895_825_409, gid: 1_895_825_409 }, { holderPid: 41, pastaPid: 42 });
    expect(prefix.slice(0, 4)).toEqual(["setpriv", "--reuid=1895825409", "--regid=1895825409", "--clear-groups"]);
    expect(prefix.indexOf("nsenter")).toBeGreaterThan(prefix.indexOf("--no-new-privs"));
    expect(prefix.slice(-drop.length)).toEqual(drop);
  });
});

describe("namespace names", () => {
  it("are unique per clan-vmd and network, and fit interface names", () => {
    const one = namespaceNames("/run/user/1000/clan-vmd", "family");
    expect(one).toEqual({ namespace: expect.stringMatching(/^clan-family-[0-9a-f]{10}$/), vpnInterface: expect.stringMatching(/^cv[0-9a-f]{10}$/), tap: "vm0" });
    expect(namespaceNames("/run/user/1001/clan-vmd", "family").namespace).not.toBe(one.namespace);
    expect(namespaceNames("/run/user/1000/clan-vmd", "club").vpnInterface).not.toBe(one.vpnInterface);
    expect(Buffer.byteLength(one.vpnInterface)).toBeLessThanOrEqual(15);
  });

  it("namespaces need CAP_NET_ADMIN and CAP_SYS_ADMIN", () => {
    expect(canCreateNamespaces("Name:\tx\nCapEff:\t000001ffffffffff\n")).toBe(true);
    expect(canCreateNamespaces("CapEff:\t0000000000001000\n")).toBe(false);
    expect(canCreateNamespaces("CapEff:\t0000000000000000\n")).toBe(false);
    expect(canCreateNamespaces("no capabilities line")).toBe(false);
  });
});

describe("QEMU in the network's namespace", () => {
  const generation: Generation = {
    path: "/p",
    resolvedPath: "/s",
    kernel: "/s/kernel",
    initrd: "/s/initrd",
    kernelParams: "console=ttyS0",
    vm: VmSpec.parse({ network: vpn() }),
  };
  const paths = vmPaths({ runtimeRoot: "/run/vmd", stateRoot: "/var/vmd" }, "family");
  const args = (connection: Parameters<typeof qemuArguments>[0]["connection"]) =>
    qemuArguments({ network: "family", generation, paths, accelerator: "tcg", withStateDisk: false, connection });

  it("attaches the persistent tap and tells the guest its address and gateway", () => {
    const command = args({ kind: "tap", enter: ["ip", "netns", "exec", "clan-family-x"], tap: "vm0", kernelParams: ["clan.ip=10.77.0.2/32", "clan.gw=169.254.0.1"] });
    expect(command.slice(command.indexOf("-append"), command.indexOf("-append") + 2)).toEqual(["-append", "console=ttyS0 clan.ip=10.77.0.2/32 clan.gw=169.254.0.1"]);
    expect(command.slice(-4)).toEqual(["-netdev", "tap,id=net0,ifname=vm0,script=no,downscript=no", "-device", "virtio-net-pci,netdev=net0"]);
  });

  it("hands the peers' names over through fw_cfg", () => {
    const command = args({ kind: "tap", enter: ["ip", "netns", "exec", "clan-family-x"], tap: "vm0", kernelParams: [], hostsFile: "/run/vmd/family/hosts" });
    expect(command.slice(-2)).toEqual(["-fw_cfg", "name=opt/org.clan/hosts,file=/run/vmd/family/hosts"]);
  });

  it("names each peer with one address, unless it is blocked", () => {
    const spec = WireguardVpn.parse({
      kind: "wireguard",
      address: "10.77.0.2",
      peers: [
        { name: "bob", publicKey: KEY, allowedIps: ["10.77.0.3/32"] },
        { name: "gateway", publicKey: KEY.replace("x", "y"), allowedIps: ["0.0.0.0/0"] },
        { name: "carol", publicKey: KEY.replace("x", "z"), allowedIps: ["10.77.0.4/32", "10.77.1.0/24"] },
      ],
    });
    expect(peerHosts(spec, "family", [])).toBe("10.77.0.3 bob bob.family.clan\n10.77.0.4 carol carol.family.clan\n");
    expect(peerHosts(spec, "family", [KEY])).toBe("10.77.0.4 carol carol.family.clan\n");
  });

  it("gives a VPN in the guest unconfined user-mode networking, with its forwards", () => {
    const command = args({ kind: "outbound", enter: ["nsenter"], forwards: [{ hostPort: 8080, guestPort: 80 }], kernelParams: ["clan.vpn=guest"] });
    expect(command).toContain("console=ttyS0 clan.vpn=guest");
    expect(command.slice(-4)).toEqual(["-netdev", "user,id=net0,hostfwd=tcp:127.0.0.1:8080-:80", "-device", "virtio-net-pci,netdev=net0"]);
  });

  it("a vpn generation cannot start without its prepared connection", () => {
    expect(() => args(undefined)).toThrow(/needs its prepared connection/);
  });
});

describe("the namespace's firewall", () => {
  it("forwards only between the VM and the VPN, accepts nothing for itself, and drops blocked prefixes", () => {
    const rules = namespaceRuleset({ tap: "vm0", vpnInterface: "cv0123456789", blockedPrefixes: ["10.77.0.3/32"] });
    expect(rules).toContain(
      'chain input {\n    type filter hook input priority filter; policy drop;\n    iifname "lo" accept\n    icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } accept\n  }',
    );
    expect(rules).toContain("type filter hook forward priority filter; policy drop;");
    expect(rules).toContain('iifname "vm0" oifname "cv0123456789" accept');
    expect(rules).toContain('iifname "cv0123456789" oifname "vm0" accept');
    expect(rules).toContain("elements = { 10.77.0.3/32 }");
    expect(namespaceRuleset({ tap: "vm0", vpnInterface: "cv1", blockedPrefixes: [] })).not.toContain("elements");
    expect(blockedSetCommand("add", ["10.77.0.3/32", "10.77.1.0/24"])).toEqual(["add", "element", "inet", "clan", "blocked", "{ 10.77.0.3/32, 10.77.1.0/24 }"]);
  });
});

describe("wg show dump", () => {
  it("reads the interface and each peer's endpoint, last handshake and traffic", () => {
    const dump = [
      "cHJpdmF0ZQ==\tUFVCTElD\t51820\toff",
      `${KEY}\t(none)\t198.51.100.2:51820\t10.77.0.3/32\t1795442297\t476\t564\t25`,
      `${KEY.replace("x", "y")}\t(none)\t(none)\t10.77.0.4/32\t0\t0\t0\toff`,
    ].join("\n");
    expect(parseWireguardDump(dump)).toEqual({
      publicKey: "UFVCTElD",
      listenPort: 51820,
      peers: [
        { publicKey: KEY, endpoint: "198.51.100.2:51820", lastHandshake: 1795442297000, receivedBytes: 476, sentBytes: 564 },
        { publicKey: KEY.replace("x", "y"), endpoint: "", lastHandshake: 0, receivedBytes: 0, sentBytes: 0 },
      ],
    });
    expect(() => parseWireguardDump("")).toThrow(/no interface line/);
  });
});

describe("how clan-vmd reaches a network's namespaces", () => {
  const privileged = { kind: "privileged", namespace: "clan-family-x" } as const;
  const rootless = { kind: "rootless", outerPid: 11, innerPid: 12, pastaPid: 13 } as const;

  it("enters a named namespace with ip netns, and the endpoint runs in clan-vmd's own", () => {
    expect(intoNetwork(privileged)).toEqual(["ip", "netns", "exec", "clan-family-x"]);
    expect(intoEndpointSide(privileged)).toEqual([]);
    expect(networkNamespaceTarget(privileged)).toBe("clan-family-x");
  });

  it("enters rootless namespaces through their holders, and QEMU gives up every capability it gains there", () => {
    expect(intoNetwork(rootless)).toEqual(["nsenter", "--preserve-credentials", "-t", "12", "--user", "--net", "--"]);
    expect(intoEndpointSide(rootless)).toEqual(["nsenter", "--preserve-credentials", "-t", "11", "--user", "--net", "--mount", "--"]);
    expect(networkNamespaceTarget(rootless)).toBe("12");
    expect(qemuIntoNetwork(rootless).slice(-5)).toEqual(["setpriv", "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]);
  });
});
