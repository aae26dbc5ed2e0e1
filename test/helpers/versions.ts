import { execFileSync } from "node:child_process";
import { hasBinary } from "./processes.js";

// Versions of installed programs, for tests of features that only newer releases have (QEMU's shared-memory
// display, sway's security context): Debian 12 has the older ones, the Debian 13 lane (scripts/trixie/) the newer.
// Synchronous, so that describe.skipIf can decide while tests are being collected.

export type Version = [number, number, number];

/** The first "N.N[.N]" in `binary args`' output, or undefined when the binary is missing. */
export function installedVersion(binary: string, args = ["--version"]): Version | undefined {
  if (!hasBinary(binary)) return undefined;
  const output = execFileSync(binary, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  const match = /(\d+)\.(\d+)(?:\.(\d+))?/.exec(output);
  if (!match) throw new Error(`cannot read a version from "${binary} ${args.join(" ")}": ${output}`);
  return [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)];
}

export function atLeast(version: Version | undefined, wanted: Version): boolean {
  if (version === undefined) return false;
  for (let i = 0; i < 3; i++) if (version[i] !== wanted[i]) return version[i]! > wanted[i]!;
  return true;
}

/** " [skipped: …]" for a describe() title when `binary` is missing or older than `wanted`; "" otherwise. */
export function versionSkipReason(binary: string, version: Version | undefined, wanted: Version): string {
  if (atLeast(version, wanted)) return "";
  const have = version === undefined ? "not installed" : `${version.join(".")} installed`;
  return ` [skipped: needs ${binary} ≥ ${wanted.join(".")}, ${have} — runs in the Debian 13 lane, scripts/trixie/]`;
}
