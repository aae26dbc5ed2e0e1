import { createHash, X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hasBinary, skipReason } from "../helpers/processes.js";
import { nixEvalJson, repositoryRoot, testDirectory } from "./nix.js";
import { hasNixpkgsLib, nixpkgsLibSkipReason, unpackNixpkgsLib } from "./real-lib.js";

// nix/tests/network-vm.nix is a NixOS VM test for machines with nixpkgs (checks.x86_64-linux.network-vm). Here it is
// evaluated, not run: its nodes through nixpkgs 25.05's real lib.evalModules with the named stand-ins, its test
// script rendered and parsed as Python, and the keys it ships checked against the addresses and device ids it uses.

interface Node {
  failedAssertions: string[];
  warnings: string[];
  adminMode: string;
  sshd: boolean;
  authorizedKeys: string[];
  hosts: Record<string, string[]>;
  stateDirectories: string[];
  yggdrasil: { configFile: string; persistentKeys: boolean; settings: Record<string, unknown> };
  syncthing: { cert: string; key: string; devices: Record<string, { id: string; addresses: string[] }>; folders: Record<string, { devices: string[] }> };
  keyPreStart: string;
  stateDisk: { device: string; fsType: string };
}

interface VmTest {
  name: string;
  nodes: { alice: Node; bob: Node };
  testScript: string;
}

const keys = join(repositoryRoot, "nix/tests/keys");
const adminPublicKey = readFileSync(join(keys, "admin-ssh-key.pub"), "utf8").trim();
let nixpkgsLib: { lib: string; remove: () => Promise<void> };
let test: VmTest;

beforeAll(async () => {
  if (!hasNixpkgsLib) return;
  nixpkgsLib = await unpackNixpkgsLib();
  test = (await nixEvalJson({ file: join(testDirectory, "evaluate-vm-test.nix") }, { nixpkgsLib: nixpkgsLib.lib })) as VmTest;
});

afterAll(async () => {
  await nixpkgsLib?.remove();
});

/** Syncthing's device id of a certificate: base32 of the DER's SHA-256, a Luhn mod-32 check character after each
 * 13 characters, in groups of 7 (lib/protocol/deviceid.go). */
function syncthingDeviceId(certificatePem: string): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  const digest = createHash("sha256").update(new X509Certificate(certificatePem).raw).digest();
  let bits = "";
  for (const byte of digest) bits += byte.toString(2).padStart(8, "0");
  let base32 = "";
  for (let index = 0; index + 5 <= bits.length; index += 5) base32 += alphabet[parseInt(bits.slice(index, index + 5), 2)];
  base32 += alphabet[parseInt(bits.slice(bits.length - (bits.length % 5)).padEnd(5, "0"), 2)];
  const luhn = (group: string) => {
    let factor = 1;
    let sum = 0;
    for (const character of group) {
      const addend = factor * alphabet.indexOf(character);
      factor = factor === 2 ? 1 : 2;
      sum += Math.floor(addend / 32) + (addend % 32);
    }
    return alphabet[(32 - (sum % 32)) % 32];
  };
  const checked = [0, 13, 26, 39].map((start) => base32.slice(start, start + 13) + luhn(base32.slice(start, start + 13))).join("");
  return checked.match(/.{7}/g)!.join("-");
}

describe.skipIf(!hasNixpkgsLib)(`the NixOS VM test nix/tests/network-vm.nix, evaluated${nixpkgsLibSkipReason}`, () => {
  it("has two members of the seeds' network, alice administered locally and bob shared, without warnings", () => {
    expect(test.name).toBe("clan-desktop-network-vm");
    const { alice, bob } = test.nodes;
    for (const node of [alice, bob]) {
      expect(node.failedAssertions).toEqual([]);
      expect(node.warnings).toEqual([]);
      expect(node.stateDisk).toMatchObject({ device: "/dev/vdb", fsType: "ext4" });
      expect(node.yggdrasil).toMatchObject({ configFile: "/var/lib/clan-yggdrasil/keys.json", persistentKeys: false });
      expect(node.hosts).toEqual({
        "202:dcef:908c:225c:f924:2513:813b:960e": ["alice", "alice.default.clan"],
        "201:7833:dd09:ead6:cde5:c4cc:637a:e951": ["bob", "bob.default.clan"],
      });
      expect(node.syncthing.folders["shared-docs"]?.devices).toEqual(["alice", "bob"]);
    }
    expect([alice.adminMode, alice.sshd]).toEqual(["local", false]);
    expect([bob.adminMode, bob.sshd]).toEqual(["shared", true]);
    expect(bob.authorizedKeys).toEqual([adminPublicKey]);
    expect(bob.yggdrasil.settings["Peers"]).toEqual(["tcp://192.168.1.1:12345"]);
  });

  it("ships syncthing certificates whose device ids are the ones its members list", async () => {
    for (const name of ["alice", "bob"] as const) {
      const node = test.nodes[name];
      expect(node.syncthing.cert).toMatch(new RegExp(`-${name}-syncthing-cert\\.pem$`));
      const certificate = await readFile(join(keys, `${name}-syncthing-cert.pem`), "utf8");
      expect(node.syncthing.devices[name]?.id).toBe(syncthingDeviceId(certificate));
    }
  });

  it.skipIf(!hasBinary("python3"))(`renders a test script that is Python${skipReason("python3")}`, async () => {
    expect(test.testScript).toContain('alice.succeed("findmnt -n -o SOURCE --target /var/lib/clan-yggdrasil | grep -q /dev/vdb")');
    expect(test.testScript).toContain("192.168.1.2 true");
    const parse = await execa("python3", ["-c", "import ast, sys; ast.parse(sys.stdin.read())"], { input: test.testScript, reject: false });
    expect(parse.stderr).toBe("");
    expect(parse.exitCode).toBe(0);
  });

  it.skipIf(!hasBinary("yggdrasil") || !hasBinary("jq"))(
    `ships yggdrasil keys whose addresses are the ones its members list${skipReason("yggdrasil", "jq")}`,
    async () => {
      const directory = await mkdtemp(join(tmpdir(), "clan-vm-test-keys-"));
      try {
        for (const name of ["alice", "bob"] as const) {
          const base = (await execa("yggdrasil", ["-genconf", "-json"])).stdout;
          const key = JSON.parse(await readFile(join(keys, `${name}-yggdrasil.json`), "utf8")) as object;
          const config = join(directory, `${name}.json`);
          await writeFile(config, JSON.stringify({ ...(JSON.parse(base) as object), ...key }));
          const address = (await execa("yggdrasil", ["-useconffile", config, "-address"])).stdout.trim();
          expect(Object.keys(test.nodes[name].hosts).find((host) => test.nodes[name].hosts[host]?.[0] === name)).toBe(address);
        }
      } finally {
        await rm(directory, { recursive: true, force: true });
      }
    },
  );
});
