import { describe, expect, it } from "vitest";
import { type Generation } from "../../src/vmd/generation.js";
import { VmSpec } from "../../src/shared/vm-spec.js";
import { qemuArguments, type Accelerator } from "../../src/vmd/qemu-command.js";
import { vmPaths } from "../../src/vmd/vm-paths.js";

// Golden command lines: any change to what QEMU is asked to run shows up here as a readable diff.

const paths = vmPaths({ runtimeRoot: "/run/vmd", stateRoot: "/var/vmd" }, "alpha");

function generation(vm: Record<string, unknown> = {}): Generation {
  return {
    path: "/profiles/alpha",
    resolvedPath: "/store/alpha-1",
    kernel: "/store/alpha-1/kernel",
    initrd: "/store/alpha-1/initrd",
    kernelParams: "console=ttyS0 quiet",
    vm: VmSpec.parse(vm),
  };
}

function command(
  vm: Record<string, unknown>,
  { accelerator = "tcg" as Accelerator, withStateDisk = false, audioServer = undefined as string | undefined } = {},
): string[] {
  return qemuArguments({ network: "alpha", generation: generation(vm), paths, accelerator, withStateDisk, audioServer });
}

/** Everything before the display and network options, for a 512 MiB single-core guest. */
function machineAndChannels(accel: Accelerator, cpu: string): string[] {
  return [
    "-name", "clan-alpha,process=clan-alpha",
    "-nodefaults", "-no-user-config", "-no-reboot",
    "-sandbox", "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny",
    "-machine", "q35,memory-backend=mem",
    "-accel", accel,
    "-cpu", cpu,
    "-smp", "1",
    "-m", "512M",
    "-object", "memory-backend-memfd,id=mem,size=512M,share=on",
    "-kernel", "/store/alpha-1/kernel",
    "-initrd", "/store/alpha-1/initrd",
    "-append", "console=ttyS0 quiet",
    "-chardev", "file,id=console,path=/var/vmd/alpha/console.log,append=on",
    "-serial", "chardev:console",
    "-chardev", "socket,id=qmp,path=/run/vmd/alpha/qmp.sock,server=on,wait=off",
    "-mon", "chardev=qmp,mode=control",
    "-device", "virtio-serial-pci,id=vser",
    "-chardev", "socket,id=qga,path=/run/vmd/alpha/qga.sock,server=on,wait=off",
    "-device", "virtserialport,bus=vser.0,chardev=qga,name=org.qemu.guest_agent.0",
    "-chardev", "socket,id=control,path=/run/vmd/alpha/control.sock,server=on,wait=off",
    "-device", "virtserialport,bus=vser.0,chardev=control,name=org.clan.control.0",
    "-device", "virtio-balloon-pci,id=balloon,free-page-reporting=on,deflate-on-oom=on,guest-stats-polling-interval=2",
  ];
}

const TCG = machineAndChannels("tcg", "qemu64");
const NO_DISPLAY = ["-display", "none"];
const USER_NETWORK = ["-netdev", "user,id=net0,restrict=on", "-device", "virtio-net-pci,netdev=net0"];

describe("qemuArguments", () => {
  it("boots the defaults under TCG with no display, user networking and no state disk", () => {
    expect(command({})).toEqual([...TCG, ...NO_DISPLAY, ...USER_NETWORK]);
  });

  it("uses the host CPU under KVM and a generic one under TCG", () => {
    expect(command({}, { accelerator: "kvm" })).toEqual([...machineAndChannels("kvm", "host"), ...NO_DISPLAY, ...USER_NETWORK]);
  });

  it("sizes memory and cores from vm.json, in -m and in the shared memory backend alike", () => {
    const args = command({ memoryMiB: 2048, cores: 4 });
    expect(args.slice(args.indexOf("-smp"), args.indexOf("-kernel"))).toEqual([
      "-smp", "4",
      "-m", "2048M",
      "-object", "memory-backend-memfd,id=mem,size=2048M,share=on",
    ]);
  });

  it("serves SPICE on a unix socket with a QXL card", () => {
    expect(command({ display: "spice" })).toEqual([
      ...TCG,
      "-display", "none",
      "-device", "qxl-vga",
      "-spice", "unix=on,addr=/run/vmd/alpha/spice.sock,disable-ticketing=on",
      ...USER_NETWORK,
    ]);
  });

  it("puts QEMU's D-Bus display on the VM's own bus, at the address clan-vmd chose, with a virtio VGA card", () => {
    expect(command({ display: "dbus" })).toEqual([
      ...TCG,
      "-display", "dbus,addr=unix:path=/run/vmd/alpha.dbus/bus",
      "-device", "virtio-vga",
      ...USER_NETWORK,
    ]);
  });

  it("refuses a vm.json that would name the display's bus, socket or options itself", () => {
    for (const vm of [{ display: "dbus", displayAddress: "unix:path=/run/user/1000/bus" }, { display: "dbus,addr=unix:path=/tmp/x" }, { display: { kind: "dbus", addr: "unix:path=/tmp/x" } }]) {
      expect(VmSpec.safeParse(vm).success, JSON.stringify(vm)).toBe(false);
    }
  });

  it("bridges waypipe through a virtio-serial port per app shown at once, four unless vm.json says otherwise", () => {
    const port = (index: number, socket: string) => [
      "-chardev", `socket,id=waypipe${index},path=/run/vmd/alpha/${socket},server=on,wait=off`,
      "-device", `virtserialport,bus=vser.0,chardev=waypipe${index},name=org.clan.waypipe.${index}`,
    ];
    expect(command({ display: "waypipe" })).toEqual([
      ...TCG,
      "-display", "none",
      ...port(0, "waypipe.sock"),
      ...port(1, "waypipe-1.sock"),
      ...port(2, "waypipe-2.sock"),
      ...port(3, "waypipe-3.sock"),
      ...USER_NETWORK,
    ]);
    expect(command({ display: "waypipe", waypipe: { ports: 1 } })).toEqual([...TCG, "-display", "none", ...port(0, "waypipe.sock"), ...USER_NETWORK]);
    expect(command({ display: "waypipe", waypipe: { ports: 16 } }).filter((arg) => arg.startsWith("virtserialport,") && arg.includes("org.clan.waypipe."))).toHaveLength(16);
  });

  it("refuses a waypipe port count outside 1–16 or a vm.json that names the ports' sockets", () => {
    for (const waypipe of [{ ports: 0 }, { ports: 17 }, { ports: 2.5 }, { ports: "4" }, { ports: 2, socket: "/tmp/x" }]) {
      expect(VmSpec.safeParse({ display: "waypipe", waypipe }).success, JSON.stringify(waypipe)).toBe(false);
    }
  });

  it("gives the guest an HD audio card played through the host's PulseAudio (or PipeWire's) when vm.json asks", () => {
    expect(command({ display: "waypipe", waypipe: { ports: 1 }, audio: "host" }, { audioServer: "unix:/run/user/1000/pulse/native" })).toEqual([
      ...TCG,
      "-display", "none",
      "-chardev", "socket,id=waypipe0,path=/run/vmd/alpha/waypipe.sock,server=on,wait=off",
      "-device", "virtserialport,bus=vser.0,chardev=waypipe0,name=org.clan.waypipe.0",
      "-audiodev", "pa,id=clan-audio,server=unix:/run/user/1000/pulse/native",
      "-device", "intel-hda",
      "-device", "hda-duplex,audiodev=clan-audio",
      ...USER_NETWORK,
    ]);
    expect(command({ audio: "host" })).toContain("pa,id=clan-audio");
    expect(command({ audio: "none" }, { audioServer: "unix:/x" })).not.toContain("-audiodev");
    expect(() => VmSpec.parse({ audio: "alsa" })).toThrow();
  });

  it("attaches the state disk as a virtio block device with a fixed serial", () => {
    expect(command({}, { withStateDisk: true })).toEqual([
      ...TCG, ...NO_DISPLAY, ...USER_NETWORK,
      "-drive", "file=/var/vmd/alpha/state.qcow2,if=none,id=state,format=qcow2,discard=unmap",
      "-device", "virtio-blk-pci,drive=state,serial=clan-state",
    ]);
  });

  it("connects each share to its virtiofsd socket, in order", () => {
    const shares = [
      { tag: "documents", source: "/home/u/Documents" },
      { tag: "media", source: "/srv/media", readOnly: true },
    ];
    expect(command({ shares })).toEqual([
      ...TCG, ...NO_DISPLAY, ...USER_NETWORK,
      "-chardev", "socket,id=fs0,path=/run/vmd/alpha/fs-documents.sock",
      "-device", "vhost-user-fs-pci,chardev=fs0,tag=documents",
      "-chardev", "socket,id=fs1,path=/run/vmd/alpha/fs-media.sock",
      "-device", "vhost-user-fs-pci,chardev=fs1,tag=media",
    ]);
  });

  it("confines user networking and forwards host ports on the loopback address only", () => {
    const forwards = [{ hostPort: 8080, guestPort: 80 }, { hostPort: 2222, guestPort: 22 }];
    expect(command({ network: { forwards } })).toEqual([
      ...TCG, ...NO_DISPLAY,
      "-netdev", "user,id=net0,restrict=on,hostfwd=tcp:127.0.0.1:8080-:80,hostfwd=tcp:127.0.0.1:2222-:22",
      "-device", "virtio-net-pci,netdev=net0",
    ]);
  });

  it("adds no network device at all when the network mode is none", () => {
    expect(command({ network: { mode: "none" } })).toEqual([...TCG, ...NO_DISPLAY]);
  });

  it("puts a state disk before the shares when a generation has both", () => {
    const args = command({ shares: [{ tag: "docs", source: "/docs" }] }, { withStateDisk: true });
    expect(args.slice(TCG.length + NO_DISPLAY.length + USER_NETWORK.length)).toEqual([
      "-drive", "file=/var/vmd/alpha/state.qcow2,if=none,id=state,format=qcow2,discard=unmap",
      "-device", "virtio-blk-pci,drive=state,serial=clan-state",
      "-chardev", "socket,id=fs0,path=/run/vmd/alpha/fs-docs.sock",
      "-device", "vhost-user-fs-pci,chardev=fs0,tag=docs",
    ]);
  });
});
