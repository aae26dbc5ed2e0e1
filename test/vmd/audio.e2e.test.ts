import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execa, type ResultPromise } from "execa";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { pulseAudioServer } from "../../src/vmd/audio-server.js";
import { VmSpec } from "../../src/shared/vm-spec.js";
import { qemuArguments } from "../../src/vmd/qemu-command.js";
import { vmPaths } from "../../src/vmd/vm-paths.js";
import { hasBinary, stopProcess, waitFor } from "../helpers/processes.js";
import { testGuestPaths } from "../helpers/test-guest.js";

// A generation with vm.json "audio": "host" gets a sound card whose sound QEMU sends to the desktop's PulseAudio:
// the real QEMU, started with clan-vmd's command line for the test guest, connects to a real PulseAudio server
// (a null sink, on a socket of this test's own) as one of its clients.

function qemuHasPulseAudio(): boolean {
  if (!hasBinary("qemu-system-x86_64")) return false;
  const drivers = execFileSync("qemu-system-x86_64", ["-audiodev", "help"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  return drivers.split("\n").includes("pa");
}

const ready = hasBinary("pulseaudio") && hasBinary("pactl") && qemuHasPulseAudio();
const skipReason = ready ? "" : " [skipped: needs pulseaudio, pactl and QEMU's PulseAudio module — run scripts/setup.sh]";

let root: string;
const children: ResultPromise[] = [];

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), `clan-audio-${process.pid}-`));
});

afterEach(async () => {
  await Promise.all(children.splice(0).map((child) => stopProcess(child, 1000)));
  await rm(root, { recursive: true, force: true });
});

describe.skipIf(!ready)(`vm.json audio "host"${skipReason}`, () => {
  it("connects the VM's sound card to the desktop's PulseAudio server", async () => {
    const socket = join(root, "pulse-native");
    const pulse = execa(
      "pulseaudio",
      [
        "-n", "--daemonize=no", "--exit-idle-time=-1", "--use-pid-file=no",
        "-L", `module-native-protocol-unix socket=${socket} auth-anonymous=1`,
        "-L", "module-null-sink sink_name=clan_audio_test",
      ],
      { env: { HOME: root, XDG_RUNTIME_DIR: root }, reject: false },
    );
    children.push(pulse);
    const pactl = (args: string[]) => execa("pactl", args, { env: { PULSE_SERVER: `unix:${socket}` }, reject: false });
    await waitFor("PulseAudio's socket", async () => ((await pactl(["info"])).exitCode === 0 ? true : undefined));

    const guest = testGuestPaths();
    const paths = vmPaths({ runtimeRoot: join(root, "run"), stateRoot: join(root, "state") }, "audio");
    await mkdir(paths.runtimeDir, { recursive: true });
    await mkdir(paths.stateDir, { recursive: true });
    const generation = {
      path: root, resolvedPath: root, kernel: guest.kernel, initrd: guest.initrd, kernelParams: "console=ttyS0 quiet",
      vm: VmSpec.parse({ audio: "host", stateDiskMiB: 0, network: { mode: "none" } }),
    };
    const args = qemuArguments({
      network: "audio", generation, paths, accelerator: "tcg", withStateDisk: false,
      audioServer: pulseAudioServer({ PULSE_SERVER: `unix:${socket}` }),
    });
    const qemu = execa("qemu-system-x86_64", args, { reject: false });
    children.push(qemu);

    const client = await waitFor("QEMU among PulseAudio's clients", async () => {
      const clients = (await pactl(["list", "clients"])).stdout;
      return /application\.process\.binary = "qemu-system-x86_64"/.test(clients) ? clients : undefined;
    });
    expect(client).toContain("qemu");
  });
});
