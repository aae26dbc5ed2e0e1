import { chmod, mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { hostCommand } from "./host-command.js";
import { WireguardKey } from "../../shared/vpn-spec.js";

// What clan-vmd keeps of a network's VPN across starts, under the network's state directory in vpn/ (0700):
// this member's private key (0600; it never leaves the host, the VM never sees it) and the peers the user
// blocked, which stay blocked whatever later generations list.

export interface VpnStatePaths {
  dir: string;
  wireguardKey: string;
  yggdrasilConfig: string;
  blocked: string;
}

export function vpnStatePaths(stateDir: string): VpnStatePaths {
  const dir = join(stateDir, "vpn");
  return { dir, wireguardKey: join(dir, "wireguard.key"), yggdrasilConfig: join(dir, "yggdrasil.json"), blocked: join(dir, "blocked.json") };
}

export async function ensureDirectory(paths: VpnStatePaths): Promise<void> {
  await mkdir(paths.dir, { recursive: true, mode: 0o700 });
  // mkdir does not change an existing directory's mode; a key directory must not stay readable to others.
  await chmod(paths.dir, 0o700);
}

/** This member's WireGuard public key, generating the private key on first use. */
export async function ensureWireguardKey(paths: VpnStatePaths): Promise<string> {
  await ensureDirectory(paths);
  let privateKey = await readFile(paths.wireguardKey, "utf8").catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return undefined;
    throw error;
  });
  if (privateKey === undefined) {
    privateKey = `${(await hostCommand("wg", ["genkey"])).trim()}\n`;
    await writeSecret(paths.wireguardKey, privateKey);
  }
  await chmod(paths.wireguardKey, 0o600);
  return WireguardKey.parse((await hostCommand("wg", ["pubkey"], privateKey)).trim());
}

export async function writeSecret(file: string, text: string): Promise<void> {
  const temporary = `${file}.tmp`;
  await writeFile(temporary, text, { mode: 0o600 });
  await rename(temporary, file);
}

const BlockedList = z.array(WireguardKey.or(z.string().regex(/^[0-9a-f]{64}$/))).max(1024);

export async function readBlocked(paths: VpnStatePaths): Promise<string[]> {
  try {
    return BlockedList.parse(JSON.parse(await readFile(paths.blocked, "utf8")));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
}

export async function writeBlocked(paths: VpnStatePaths, keys: string[]): Promise<void> {
  await ensureDirectory(paths);
  await writeSecret(paths.blocked, `${JSON.stringify([...new Set(keys)].sort())}\n`);
}
