import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { hasBinary, skipReason, waitFor } from "../helpers/processes.js";
import { type HeadlessSway, startHeadlessSway } from "../helpers/sway.js";
import { repositoryRoot } from "./nix.js";

// nixosModules.host's sway snippet (nix/host/sway.conf) run by the real headless sway. This machine has no systemd:
// a STAND-IN `systemctl` first on sway's PATH plays the user manager, slowly: import-environment takes half a
// second to store the variables, and start records whether SWAYSOCK had been stored by then. With import and start
// in two exec lines sway runs them side by side and start comes first; the snippet must not let it.

const fakeSystemctl = (state: string) => `#!/bin/sh
case "$1 $2" in
  "--user import-environment")
    shift 2
    sleep 0.5
    for name in "$@"; do eval "printf '%s=%s\\n' \\"\\$name\\" \\"\\$$name\\"" >> ${state}/environment; done
    echo "import-environment $*" >> ${state}/calls ;;
  "--user start")
    echo "start $3 with: $(grep -c '^SWAYSOCK=/' ${state}/environment 2>/dev/null || echo 0) SWAYSOCK" >> ${state}/calls ;;
  *) echo "unexpected: $*" >> ${state}/calls ;;
esac
`;

let root: string;
let sway: HeadlessSway | undefined;
const originalPath = process.env["PATH"];

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), `clan-host-snippet-${process.pid}-`));
  await chmod(root, 0o755);
});

afterEach(async () => {
  process.env["PATH"] = originalPath;
  await sway?.stop();
  sway = undefined;
  await rm(root, { recursive: true, force: true });
});

describe.skipIf(!hasBinary("sway"))(`nix/host/sway.conf in the real sway${skipReason("sway")}`, () => {
  it("imports SWAYSOCK into the user manager before it starts clan-sessiond", async () => {
    const bin = join(root, "bin");
    const state = join(root, "state");
    await mkdir(bin);
    await mkdir(state, { mode: 0o777 });
    await chmod(state, 0o777);
    await writeFile(join(bin, "systemctl"), fakeSystemctl(state), { mode: 0o755 });
    process.env["PATH"] = `${bin}:${originalPath ?? "/usr/bin:/bin"}`;

    const snippet = await readFile(join(repositoryRoot, "nix/host/sway.conf"), "utf8");
    sway = await startHeadlessSway({ config: snippet });
    const calls = await waitFor("both systemctl calls", async () => {
      const lines = (await readFile(join(state, "calls"), "utf8").catch(() => "")).trim().split("\n").filter(Boolean);
      return lines.length >= 2 ? lines : undefined;
    });
    expect(calls).toEqual(["import-environment SWAYSOCK WAYLAND_DISPLAY", "start clan-sessiond.service with: 1 SWAYSOCK"]);
  });
});
