import type { Generation } from "./generation.js";
import type { VmPaths } from "./vm-paths.js";
import { CONTROL_PORT_NAME, GUEST_AGENT_PORT_NAME } from "./control-port.js";
import { busAddress } from "../shared/dbus-address.js";
import type { QemuNetwork } from "./vpn/network-vpn.js";
import type { VmSpec } from "../shared/vm-spec.js";

// The QEMU command line for one generation, as a pure function so that golden tests pin it down.
// Every value that reaches an option string has been validated by the generation schema (no ',' in paths),
// and arguments are passed as an array: no shell ever sees them.

export type Accelerator = "kvm" | "tcg";

const BALLOON_ID = "balloon";
/** Where QMP finds the balloon device, whose statistics guest-memory-report.ts reads: QEMU files `-device`s by id there. */
export const BALLOON_QOM_PATH = `/machine/peripheral/${BALLOON_ID}`;
/** How often QEMU asks the guest's balloon driver for its memory statistics: a brief wake-up of the guest each time. */
const GUEST_STATS_INTERVAL_SECONDS = 2;

/** The guest finds its waypipe ports by these names (/dev/virtio-ports/org.clan.waypipe.<index>). */
const WAYPIPE_PORT_PREFIX = "org.clan.waypipe.";

export interface QemuCommandInput {
  network: string;
  generation: Generation;
  paths: VmPaths;
  accelerator: Accelerator;
  withStateDisk: boolean;
  /** How the VM is connected; by default as vm.json's user or none mode says (a VPN must be prepared first). */
  connection?: QemuNetwork;
  /** The PulseAudio server for vm.json's audio "host" (audio-server.ts); QEMU's own lookup without it. */
  audioServer?: string;
}

export function qemuArguments({
  network, generation, paths, accelerator, withStateDisk, connection = plainConnection(generation), audioServer,
}: QemuCommandInput): string[] {
  const { vm } = generation;
  const kernelParams = [generation.kernelParams, ...(connection.kind === "none" ? [] : connection.kernelParams)].join(" ");
  const args = [
    "-name", `clan-${network},process=clan-${network}`,
    "-nodefaults", "-no-user-config", "-no-reboot",
    // A guest that takes QEMU over may not gain privileges, start programs, change its scheduling or make
    // obsolete system calls (docs/security.md, "QEMU"). It is the first thing QEMU installs.
    "-sandbox", "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny",
    "-machine", "q35,memory-backend=mem",
    "-accel", accelerator,
    "-cpu", accelerator === "kvm" ? "host" : "qemu64",
    "-smp", String(vm.cores),
    "-m", `${vm.memoryMiB}M`,
    // memfd with share=on: virtiofs and a shared-memory display map guest RAM from another process.
    "-object", `memory-backend-memfd,id=mem,size=${vm.memoryMiB}M,share=on`,
    "-kernel", generation.kernel,
    "-initrd", generation.initrd,
    "-append", kernelParams,
    "-chardev", `file,id=console,path=${paths.consoleLog},append=on`,
    "-serial", "chardev:console",
    "-chardev", `socket,id=qmp,path=${paths.qmpSocket},server=on,wait=off`,
    "-mon", "chardev=qmp,mode=control",
    "-device", "virtio-serial-pci,id=vser",
    "-chardev", `socket,id=qga,path=${paths.guestAgentSocket},server=on,wait=off`,
    "-device", `virtserialport,bus=vser.0,chardev=qga,name=${GUEST_AGENT_PORT_NAME}`,
    "-chardev", `socket,id=control,path=${paths.controlSocket},server=on,wait=off`,
    "-device", `virtserialport,bus=vser.0,chardev=control,name=${CONTROL_PORT_NAME}`,
    // The balloon is never inflated: it is there for free-page-reporting (pages the guest frees go back to the
    // host, so several idle VMs do not each keep their peak), and for the guest's own memory statistics.
    // deflate-on-oom lets the guest take pages back from the balloon rather than fail, should it ever be inflated.
    "-device", `virtio-balloon-pci,id=${BALLOON_ID},free-page-reporting=on,deflate-on-oom=on,guest-stats-polling-interval=${GUEST_STATS_INTERVAL_SECONDS}`,
    ...displayArguments(generation, paths),
    ...audioArguments(generation, audioServer),
    ...networkArguments(connection),
  ];
  if (withStateDisk) {
    args.push(
      "-drive", `file=${paths.stateDisk},if=none,id=state,format=qcow2,discard=unmap`,
      "-device", "virtio-blk-pci,drive=state,serial=clan-state",
    );
  }
  generation.vm.shares.forEach((share, index) => {
    args.push(
      "-chardev", `socket,id=fs${index},path=${paths.shareSocket(share.tag)}`,
      "-device", `vhost-user-fs-pci,chardev=fs${index},tag=${share.tag}`,
    );
  });
  return args;
}

function displayArguments({ vm }: Generation, paths: VmPaths): string[] {
  switch (vm.display) {
    case "none":
      return ["-display", "none"];
    case "spice":
      return [
        "-display", "none",
        "-device", "qxl-vga",
        "-spice", `unix=on,addr=${paths.spiceSocket},disable-ticketing=on`,
      ];
    case "dbus":
      // The VM's own bus (display-bus.ts), never the session bus: QEMU is given its address and nothing else.
      // virtio-vga: a guest with a virtio-gpu driver follows the window's size (SetUIInfo); the firmware uses its VGA.
      return ["-display", `dbus,addr=${busAddress(paths.displayBusSocket)}`, "-device", "virtio-vga"];
    case "waypipe":
      // No vhost-vsock on every host: waypipe's stream crosses a virtio-serial port bridged to a unix socket. A
      // port is one byte stream, so each app the guest shows at once has a port of its own (docs/display.md).
      return [
        "-display", "none",
        ...Array.from({ length: vm.waypipe.ports }, (_, index) => [
          "-chardev", `socket,id=waypipe${index},path=${paths.waypipeSocket(index)},server=on,wait=off`,
          "-device", `virtserialport,bus=vser.0,chardev=waypipe${index},name=${WAYPIPE_PORT_PREFIX}${index}`,
        ]).flat(),
      ];
  }
}

// QEMU's PulseAudio backend (7.2 has no pipewire one) reaches PipeWire through pipewire-pulse as well.
function audioArguments({ vm }: Generation, server: string | undefined): string[] {
  if (vm.audio === "none") return [];
  return [
    "-audiodev", `pa,id=clan-audio${server === undefined ? "" : `,server=${server}`}`,
    "-device", "intel-hda",
    "-device", "hda-duplex,audiodev=clan-audio",
  ];
}

function plainConnection({ vm }: Generation): QemuNetwork {
  if (vm.network.mode === "vpn") throw new Error("a generation with network mode vpn needs its prepared connection");
  return vm.network.mode === "none" ? { kind: "none" } : { kind: "user", forwards: vm.network.forwards, kernelParams: [] };
}

function networkArguments(connection: QemuNetwork): string[] {
  switch (connection.kind) {
    case "none":
      return [];
    case "user":
      // restrict=on: the guest reaches neither the host (10.0.2.2 is the host's loopback) nor anything beyond it;
      // only the forwards, which the host opens towards the guest, still work (docs/generation.md).
      return ["-netdev", `user,id=net0,restrict=on${hostForwards(connection.forwards)}`, "-device", "virtio-net-pci,netdev=net0"];
    case "outbound":
      // Unrestricted, for a VPN in the guest: QEMU runs in a namespace of its own (guest-namespace.ts), where
      // 10.0.2.2 is that namespace's loopback; its forwards bind there and pasta brings the host's to them.
      return ["-netdev", `user,id=net0${hostForwards(connection.forwards)}`, "-device", "virtio-net-pci,netdev=net0"];
    case "tap":
      // The persistent tap inside the network's namespace, where QEMU itself runs (vm-launch.ts).
      return [
        "-netdev", `tap,id=net0,ifname=${connection.tap},script=no,downscript=no`,
        "-device", "virtio-net-pci,netdev=net0",
        // The peers' names, which the guest reads from /sys/firmware/qemu_fw_cfg (docs/vpn.md, "Names").
        ...(connection.hostsFile ? ["-fw_cfg", `name=opt/org.clan/hosts,file=${connection.hostsFile}`] : []),
      ];
  }
}

function hostForwards(forwards: VmSpec["network"]["forwards"]): string {
  return forwards.map((f) => `,hostfwd=tcp:127.0.0.1:${f.hostPort}-:${f.guestPort}`).join("");
}
