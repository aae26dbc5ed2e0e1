import { readFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { VmSpec } from "../../src/shared/vm-spec.js";
import { hasBinary, skipReason } from "../helpers/processes.js";
import { nixEval, repositoryRoot, testDirectory } from "./nix.js";
import { hasNixpkgsLib, nixpkgsLibSkipReason, unpackNixpkgsLib } from "./real-lib.js";

// nixosModules.guest evaluated as nixosSystem would, with nixpkgs 25.05's real lib.evalModules and option types, for
// the seeds' configs.json and every admin mode and network layer. What NixOS has beyond lib (systemd, /etc, and the
// yggdrasil, syncthing, WireGuard, sshd and ZeroTier modules' documented options and unit names) is the named
// stand-ins of test/nix/nixos-stand-ins. The assertions are on the resulting NixOS option values.

interface Unit {
  script: string;
  after: string[];
  before: string[];
  requiredBy: string[];
  wantedBy: string[];
  environment: Record<string, string>;
  serviceConfig: Record<string, unknown>;
}

interface Evaluated {
  failedAssertions: string[];
  warnings: string[];
  services: Record<string, Record<string, unknown>> & {
    "clan-desktop-guest": { stateDirectories: string[]; readyAfter: string[]; display: string };
    yggdrasil: { enable: boolean; persistentKeys: boolean; configFile: string | null; settings: Record<string, unknown> };
    syncthing: {
      enable: boolean;
      openDefaultPorts: boolean;
      settings: {
        devices: Record<string, { id: string; addresses: string[] }>;
        folders: Record<string, { path: string; devices: string[] }>;
        options: Record<string, unknown>;
      };
    };
    openssh: { enable: boolean; openFirewall: boolean; settings: Record<string, unknown> };
    getty: { autologinUser: string | null };
    pipewire: { enable: boolean; systemWide: boolean; pulse: { enable: boolean } };
  };
  systemd: { services: Record<string, Unit> };
  networking: {
    hosts: Record<string, string[]>;
    firewall: {
      allowedTCPPorts: number[];
      interfaces: Record<string, { allowedTCPPorts: number[]; allowedUDPPorts: number[] }>;
    };
    wireguard: { interfaces: Record<string, { privateKeyFile: string; generatePrivateKeyFile: boolean }> };
  };
  environment: { etc: Record<string, { mode: string }> };
  boot: { kernelModules: string[] };
  vmJson: Record<string, unknown>;
}

const seeds = readFileSync(join(testDirectory, "examples/good-seeds.json"), "utf8");
const seedEntry = (JSON.parse(seeds) as { default: Record<string, unknown> }).default;
let nixpkgsLib: { lib: string; remove: () => Promise<void> };

beforeAll(async () => {
  if (hasNixpkgsLib) nixpkgsLib = await unpackNixpkgsLib();
});

afterAll(async () => {
  await nixpkgsLib?.remove();
});

async function evaluateResult(entry: Record<string, unknown>, network: unknown = {}) {
  return nixEval({ file: join(testDirectory, "evaluate-guest.nix") }, {
    nixpkgsLib: nixpkgsLib.lib,
    configs: JSON.stringify({ family: entry }),
    name: "family",
    network: JSON.stringify(network),
  });
}

async function evaluate(entry: Record<string, unknown>, network: unknown = {}): Promise<Evaluated> {
  const result = await evaluateResult(entry, network);
  if (result.exitCode !== 0) throw new Error(`evaluating the guest module failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as Evaluated;
}

const ALICE = "MFZWI3D-BONSGYC-YLTMRWG-C43ENR5-QXGZDMM-FZWI3DP-BONSGYY-LTMRWAD";
const BOB = "P56IOI7-MZJNU2Y-IQGDREY-DM2MGTI-MGL3BXN-PQ6W5BM-TBBZ4TJ-XZWICQ2";
const phonebook = {
  services: {
    "clan-desktop-guest": {
      members: {
        alice: { address: "200:1111:2222::1", syncthingDeviceId: ALICE },
        bob: { address: "10.77.0.3", syncthingDeviceId: BOB },
        carol: { address: "200:3333:4444::1" },
      },
    },
  },
};

describe.skipIf(!hasNixpkgsLib)(`nixosModules.guest with nixpkgs 25.05's lib${nixpkgsLibSkipReason}`, () => {
  it("evaluates the seeds' configs.json with no failed assertion, into a vm.json clan-vmd accepts", async () => {
    const system = await evaluate(seedEntry);
    expect(system.failedAssertions).toEqual([]);
    expect(system.warnings).toEqual([expect.stringContaining("syncthing shares its folders with no one")]);
    const vm = VmSpec.parse(system.vmJson);
    expect(vm).toMatchObject({ display: "waypipe", audio: "host", readiness: "control-port" });
    expect(system.services["clan-desktop-guest"].readyAfter.sort()).toEqual(["syncthing.service", "yggdrasil.service"]);
  });

  for (const adminMode of ["local", "remote", "shared"]) {
    for (const networkLayer of ["yggdrasil", "wireguard", "zerotier", "none"] as const) {
      it(`adminMode ${adminMode}, networkLayer ${networkLayer}: the admin's way in and the layer's service`, async () => {
        const adminSshKeys = ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEkk6kDjOkwLdvwJ+8nHd6bvwGQxw4DW2oFfOQoUYrc0 admin@family"];
        const system = await evaluate({ ...seedEntry, adminMode, networkLayer, adminSshKeys }, phonebook);
        expect(system.failedAssertions).toEqual([]);
        const local = adminMode !== "remote";
        const remote = adminMode !== "local";
        const layerInterface = { yggdrasil: "ygg0", wireguard: "clan0", zerotier: "zt+", none: null }[networkLayer];

        expect(system.services.getty.autologinUser).toBe(local ? "root" : null);
        expect(system.services.openssh.enable).toBe(remote);
        if (remote) {
          expect(system.services.openssh).toMatchObject({
            openFirewall: false,
            settings: { PasswordAuthentication: false, KbdInteractiveAuthentication: false, PermitRootLogin: "prohibit-password" },
          });
          expect(system.services["clan-desktop-guest"].stateDirectories).toContain("/var/lib/clan-ssh");
          expect(system.warnings.some((warning) => warning.includes("nobody can reach SSH"))).toBe(networkLayer === "none");
        }
        // SSH and syncthing are open on the network layer's interface, and nowhere else.
        expect(system.networking.firewall.allowedTCPPorts).toEqual([]);
        const openInterfaces = Object.fromEntries(
          Object.entries(system.networking.firewall.interfaces).map(([name, rules]) => [name, rules.allowedTCPPorts.sort()]),
        );
        expect(openInterfaces).toEqual(layerInterface === null ? {} : { [layerInterface]: remote ? [22, 22000] : [22000] });

        const units = Object.keys(system.systemd.services);
        const layerUnit = { yggdrasil: "yggdrasil", wireguard: "wireguard-clan0", zerotier: "zerotierone", none: null }[networkLayer];
        for (const unit of ["yggdrasil", "wireguard-clan0", "zerotierone"]) expect(units.includes(unit), unit).toBe(unit === layerUnit);
        if (layerUnit !== null) expect(system.services["clan-desktop-guest"].readyAfter).toContain(`${layerUnit}.service`);
        if (networkLayer === "wireguard") {
          expect(system.networking.wireguard.interfaces["clan0"]).toMatchObject({ privateKeyFile: "/var/lib/wireguard/clan0.key", generatePrivateKeyFile: true });
          expect(system.services["clan-desktop-guest"].stateDirectories).toContain("/var/lib/wireguard");
        }

        // Names of the phonebook, whatever the layer; clan-vmd's own names (host-side VPN) through fw_cfg.
        expect(system.networking.hosts).toEqual({
          "200:1111:2222::1": ["alice", "alice.family.clan"],
          "10.77.0.3": ["bob", "bob.family.clan"],
          "200:3333:4444::1": ["carol", "carol.family.clan"],
        });
        expect(system.environment.etc["hosts"]?.mode).toBe("0644");
        expect(system.boot.kernelModules).toContain("qemu_fw_cfg");
        // The balloon clan-vmd gives every VM: free pages back to the host, the guest's memory figures.
        expect(system.boot.kernelModules).toContain("virtio_balloon");
        expect(system.systemd.services["clan-network-names"]?.script).toContain("/sys/firmware/qemu_fw_cfg/by_name/opt/org.clan/hosts/raw");
      });
    }
  }

  it("keeps yggdrasil's key on the state disk, out of /var/lib/yggdrasil and /var/lib/private", async () => {
    const system = await evaluate(seedEntry);
    const guest = system.services["clan-desktop-guest"];
    const yggdrasil = system.services.yggdrasil;
    expect(yggdrasil).toMatchObject({ enable: true, persistentKeys: false, configFile: "/var/lib/clan-yggdrasil/keys.json" });
    // The key's directory is bind-mounted from the state disk before anything uses it.
    expect(guest.stateDirectories).toContain("/var/lib/clan-yggdrasil");
    const stateDirectories = system.systemd.services["clan-state-directories"]!;
    expect(stateDirectories.script).toContain("mount --bind /var/lib/clan-state/var/lib/clan-yggdrasil /var/lib/clan-yggdrasil");
    const keyUnit = system.systemd.services["clan-yggdrasil-key"]!;
    expect(keyUnit).toMatchObject({ requiredBy: ["yggdrasil.service"], before: ["yggdrasil.service"], after: ["clan-state-directories.service"] });
    expect(keyUnit.script).toContain("/var/lib/clan-yggdrasil/keys.json");
    // The module reads it as configFile; nothing writes /var/lib/yggdrasil, so systemd's DynamicUser has nothing to
    // move, and /var/lib/private stays in memory, on the same filesystem as /var/lib.
    expect(system.systemd.services["yggdrasil"]?.serviceConfig).toMatchObject({ DynamicUser: true, LoadCredential: "yggdrasil.conf:/var/lib/clan-yggdrasil/keys.json" });
    expect(Object.keys(system.systemd.services)).not.toContain("yggdrasil-persistent-keys");
    for (const [name, unit] of Object.entries(system.systemd.services)) expect(unit.script, name).not.toContain("/var/lib/yggdrasil/");
    expect(guest.stateDirectories.filter((directory) => directory.startsWith("/var/lib/private"))).toEqual([]);
    expect(yggdrasil.settings).toMatchObject({ IfName: "ygg0", MulticastInterfaces: [] });
  });

  it("shares syncthing's folders with the members' devices at their VPN addresses, with discovery and relays off", async () => {
    const system = await evaluate(seedEntry, phonebook);
    expect(system.warnings).toEqual([]);
    const syncthing = system.services.syncthing;
    expect(syncthing.openDefaultPorts).toBe(false);
    expect(syncthing.settings.devices).toEqual({
      alice: { id: ALICE, name: "alice", autoAcceptFolders: false, addresses: ["tcp://[200:1111:2222::1]:22000"] },
      bob: { id: BOB, name: "bob", autoAcceptFolders: false, addresses: ["tcp://10.77.0.3:22000"] },
    });
    expect(syncthing.settings.folders["shared-docs"]).toMatchObject({ path: "/shared/docs", devices: ["alice", "bob"] });
    expect(syncthing.settings.options).toMatchObject({
      globalAnnounceEnabled: false, localAnnounceEnabled: false, relaysEnabled: false, natEnabled: false, urAccepted: -1,
      listenAddresses: ["tcp://:22000"],
    });
    // What the module sends to syncthing: each folder's devices resolved to the members' ids.
    const sent = JSON.parse(system.systemd.services["syncthing-init"]!.script) as { folders: { id: string; devices: { deviceId: string }[] }[] };
    expect(sent.folders).toEqual([expect.objectContaining({ id: "shared-docs", devices: [{ deviceId: ALICE }, { deviceId: BOB }] })]);
    expect(system.networking.firewall.interfaces["ygg0"]).toEqual({ allowedTCPPorts: [22000], allowedUDPPorts: [] });
  });

  it("rejects a member's syncthing device id that is not one, naming the option", async () => {
    const result = await evaluateResult(seedEntry, { services: { "clan-desktop-guest": { members: { alice: { syncthingDeviceId: "alice" } } } } });
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain("services.clan-desktop-guest.members.alice.syncthingDeviceId");
  });

  it("gives mumble a window through waypipe and sound through the host, unless the network chose another display", async () => {
    const system = await evaluate(seedEntry);
    expect(system.services["clan-desktop-guest"].display).toBe("waypipe");
    const app = system.systemd.services["clan-forwarded-app"]!;
    // On the first free of the VM's waypipe ports (four unless waypipe.ports says otherwise).
    expect(app.serviceConfig["ExecStart"]).toMatch(/^\S+-clan-waypipe-open\/bin\/clan-waypipe-open \S+-mumble\/bin\/mumble mumble:\/\/mumble\.example:64738$/);
    expect(VmSpec.parse(system.vmJson).waypipe).toEqual({ ports: 4 });
    const twoPorts = await evaluate(seedEntry, { services: { "clan-desktop-guest": { waypipe: { ports: 2 } } } });
    expect(twoPorts.vmJson).toMatchObject({ display: "waypipe", waypipe: { ports: 2 } });
    expect(app.environment).toMatchObject({ PULSE_SERVER: "unix:/run/pulse/native" });
    expect(system.services.pipewire).toMatchObject({ enable: true, systemWide: true, pulse: { enable: true } });
    expect(system.boot.kernelModules).toContain("snd_hda_intel");

    const spice = await evaluate({ ...seedEntry, vm: { display: "spice" } });
    expect(VmSpec.parse(spice.vmJson)).toMatchObject({ display: "spice", audio: "host" });
    expect(Object.keys(spice.systemd.services)).not.toContain("clan-forwarded-app");

    const withoutMumble = await evaluate({ ...seedEntry, applications: { syncthing: { enable: false } } });
    expect(VmSpec.parse(withoutMumble.vmJson)).toMatchObject({ display: "none", audio: "none" });
    expect(withoutMumble.vmJson).not.toHaveProperty("audio");
    expect(withoutMumble.services.pipewire.enable).toBe(false);
  });
});

describe.skipIf(!hasNixpkgsLib || !hasBinary("yggdrasil") || !hasBinary("jq"))(
  `the yggdrasil key unit's script with the real yggdrasil${nixpkgsLibSkipReason || skipReason("yggdrasil", "jq")}`,
  () => {
    it("makes a key once and keeps it", async () => {
      const system = await evaluate(seedEntry);
      const directory = await mkdtemp(join(tmpdir(), "clan-yggdrasil-key-"));
      try {
        const script = system.systemd.services["clan-yggdrasil-key"]!.script.replaceAll("/var/lib/clan-yggdrasil", directory);
        const run = () => execa("sh", ["-e", "-c", script], { cwd: repositoryRoot, env: { PATH: process.env["PATH"] } });
        await run();
        const key = await readFile(join(directory, "keys.json"), "utf8");
        expect(Object.keys(JSON.parse(key) as object)).toContain("PrivateKey");
        await run();
        expect(await readFile(join(directory, "keys.json"), "utf8")).toBe(key);
      } finally {
        await rm(directory, { recursive: true, force: true });
      }
    });
  },
);
