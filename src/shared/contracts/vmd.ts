import { z } from "zod";
import { VMD_MANAGER_INTERFACE, VMD_VM_INTERFACE } from "../dbus-names.js";
import { VmFiguresDictionary } from "../monitoring-api.js";
import { SecurityEventDictionary } from "../security-events.js";
import { SnapshotReportDictionary, VmStartOptionsDictionary, VmStatusDictionary, VpnPeerDictionary } from "../vm-api.js";
import { arg, bool, defineInterface, i32, list, plain, str, strings, u32 } from "./define.js";

// clan-vmd's D-Bus API, declared once: dbus-service.ts serves it, VmdClient calls it, and
// share/dbus-1/interfaces/ and docs/dbus.md are generated from it (`npm run schemas`).

const network = arg("network", str);
const status = arg("status", VmStatusDictionary);
const statuses = arg("statuses", list(VmStatusDictionary));

export const VmdManagerContract = defineInterface({
  name: VMD_MANAGER_INTERFACE,
  doc: "clan-vmd's manager object: every VM of the session.",
  methods: {
    List: { in: [], out: [statuses], doc: "the status of every VM clan-vmd knows, sorted by network" },
    Start: {
      in: [network, arg("generation", str), arg("options", VmStartOptionsDictionary)],
      out: [status],
      doc: "boots `generation` (a generation directory or a profile link to one) and returns once the guest is ready",
      errors: ["InvalidArgument", "InvalidGeneration", "NotGranted", "OverLimit", "Busy", "QemuFailed", "Timeout", "Disconnected", "Protocol", "InvalidState"],
    },
    PrepareStart: {
      in: [network, arg("generation", str), arg("options", VmStartOptionsDictionary)],
      out: [],
      doc:
        "checks `generation` exactly as Start would (same options, same errors) and replies; then prepares what its start needs (its store view) " +
        "in the background, at low priority, and keeps it for the network in place of what the network kept before, so that its first start is as fast as a later one",
      errors: ["InvalidArgument", "InvalidGeneration", "NotGranted", "OverLimit"],
    },
    ReleaseStoreView: {
      in: [network],
      out: [],
      doc: "the network left the user's config: the store view it kept for its next start (its latest start's or PrepareStart's) ends, unless another network keeps it",
      errors: ["InvalidArgument"],
    },
    Stop: { in: [network], out: [status], doc: "stops the VM, escalating to SIGKILL", errors: ["InvalidArgument", "UnknownNetwork"] },
    Pause: {
      in: [network],
      out: [status],
      doc: "freezes the VM's CPUs",
      errors: ["InvalidArgument", "UnknownNetwork", "InvalidState", "QemuFailed", "Timeout", "Disconnected"],
    },
    Resume: {
      in: [network],
      out: [status],
      doc: "continues a paused VM",
      errors: ["InvalidArgument", "UnknownNetwork", "InvalidState", "QemuFailed", "Timeout", "Disconnected"],
    },
    StopAll: { in: [], out: [statuses], doc: "stops every VM, in parallel, and returns their statuses" },
    ConsoleTail: {
      in: [network, arg("maxBytes", u32)],
      out: [arg("text", str)],
      doc: "the last `maxBytes` (more than 1 MiB reads 1 MiB) of the VM's serial console log; the guest's bytes, not escaped",
      errors: ["InvalidArgument", "UnknownNetwork"],
    },
    SnapshotState: {
      in: [network, arg("target", str), arg("hooks", plain("aas", z.array(z.array(z.string()))))],
      out: [arg("report", SnapshotReportDictionary)],
      doc: "writes a consistent qcow2 copy of the VM's state disk to `target`, after running `hooks` in the guest",
      errors: ["InvalidArgument", "NotFound", "Busy", "QemuFailed", "Timeout", "Disconnected", "Protocol"],
    },
    ReplaceStateDisk: {
      in: [network, arg("image", str)],
      out: [],
      doc: "puts a checked copy of the qcow2 `image` in place of a stopped VM's state disk",
      errors: ["InvalidArgument", "InvalidState"],
    },
    GuestExec: {
      in: [network, arg("argv", strings), arg("timeoutSeconds", u32)],
      out: [arg("exitCode", i32), arg("stdout", str), arg("stderr", str)],
      doc: "runs `argv` as root in the guest through the guest agent and waits for it",
      errors: ["InvalidArgument", "UnknownNetwork", "Timeout", "QemuFailed", "Protocol", "Disconnected"],
    },
    GuestFreezeStatus: {
      in: [network],
      out: [arg("state", str)],
      doc: "`thawed` or `frozen`, as the guest agent reports it",
      errors: ["InvalidArgument", "UnknownNetwork", "Timeout", "Disconnected"],
    },
    Shutdown: { in: [arg("stopVms", bool)], out: [], doc: "replies, then leaves the bus and exits; stops the VMs first when `stopVms`" },
    Peers: {
      in: [network],
      out: [arg("peers", list(VpnPeerDictionary))],
      doc: "the members of the network's VPN",
      errors: ["InvalidState"],
    },
    BlockPeer: {
      in: [network, arg("peer", str)],
      out: [],
      doc: "revokes a VPN peer (name or public key) at once and for good",
      errors: ["NotFound", "InvalidState", "NetworkFailed"],
    },
    UnblockPeer: {
      in: [network, arg("peer", str)],
      out: [],
      doc: "lets a blocked VPN peer back",
      errors: ["NotFound", "InvalidState", "NetworkFailed"],
    },
    VpnPublicKey: { in: [network], out: [arg("publicKey", str)], doc: "this member's WireGuard public key for the network, generated on first use" },
    Figures: {
      in: [network],
      out: [arg("figures", VmFiguresDictionary)],
      doc: "the running (or paused) VM's CPU, memory, disk and network figures, measured now; a figure that cannot be read is `-1` and named in `problems`",
      errors: ["InvalidArgument", "UnknownNetwork", "InvalidState"],
    },
  },
  properties: {},
  signals: {
    StateChanged: { args: [status], doc: "every transition of every VM, with its full status" },
    SecurityEvent: { args: [arg("event", SecurityEventDictionary)], doc: "a call that lowered a network's guard went through" },
  },
});

/** One object per VM, at networkObjectPath(VMD_MANAGER_PATH, network). */
export const VmdVmContract = defineInterface({
  name: VMD_VM_INTERFACE,
  doc: "one VM clan-vmd knows; PropertiesChanged on every transition.",
  methods: {},
  properties: {
    Network: { codec: str, doc: "`network`" },
    State: { codec: str, doc: "`state`" },
    Generation: { codec: str, doc: "`generation`" },
    Pid: { codec: u32, doc: "`pid`" },
    Error: { codec: str, doc: "`error`" },
  },
  signals: {},
});
