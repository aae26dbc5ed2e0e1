import { z } from "zod";
import { ConfigsText, NetworkApplicationsDictionary, UpdatePolicyDictionary } from "../applications-api.js";
import { SESSION_MANAGER_INTERFACE } from "../dbus-names.js";
import { JobDictionary } from "../job-api.js";
import { BuildLogLinesDictionary, VmFiguresDictionary } from "../monitoring-api.js";
import { BackupSnapshotDictionary, GenerationDictionary, NetworkStatusDictionary } from "../session-api.js";
import { VpnPeerDictionary } from "../vm-api.js";
import { arg, bool, defineInterface, i32, list, plain, str, strings } from "./define.js";

// clan-sessiond's D-Bus API, declared once: dbus-service.ts serves it, SessionClient calls it, and
// share/dbus-1/interfaces/, docs/dbus.md and the GNOME extension's copy are generated from it (`npm run schemas`).

const network = arg("network", str);
const jobId = arg("jobId", str);
const status = arg("status", NetworkStatusDictionary);
const job = arg("job", JobDictionary);

export const SessionManagerContract = defineInterface({
  name: SESSION_MANAGER_INTERFACE,
  doc: "clan-sessiond: the user's networks, their VMs, jobs, backups and VPN peers.",
  methods: {
    ListNetworks: { in: [], out: [arg("networks", list(NetworkStatusDictionary))], doc: "every configured network" },
    GetNetwork: { in: [network], out: [status], doc: "one network", errors: ["UnknownNetwork"] },
    Start: { in: [network], out: [], doc: "starts the network's VM at once (no debounce)", errors: ["UnknownNetwork"] },
    Stop: { in: [network], out: [], doc: "stops the network's VM at once", errors: ["UnknownNetwork"] },
    Pause: { in: [network], out: [], doc: "pauses the network's VM at once", errors: ["UnknownNetwork"] },
    Switch: {
      in: [network],
      out: [],
      doc: "focuses the network's first workspace in sway/i3 (`InvalidState` without a window-manager backend)",
      errors: ["UnknownNetwork", "InvalidState"],
    },
    StartRebuild: {
      in: [network],
      out: [jobId],
      doc: "starts a [job](#jobs) that fetches the network's source, checks the inputs of the revision fetched, builds exactly that revision (pinned; confined evaluation; `--no-write-lock-file`: a network's repository is never written to — [links.md](links.md#what-a-build-builds)), registers it in its Nix profile and boots it (rolling back by itself when it does not come up); returns the job's id at once. Refused at once (`InvalidArgument`) for a network without a flake source. The job fails with `BuildFailed` naming the cause (refused inputs by name, Nix's error)",
      errors: ["UnknownNetwork", "InvalidArgument"],
    },
    StartRollback: {
      in: [network, arg("to", i32)],
      out: [jobId],
      doc: "starts a job that switches to generation `to` (or the previous one when `to` < 0) and boots it if the VM was up; refused at once (`NotFound`) when there is no such generation",
      errors: ["UnknownNetwork", "NotFound"],
    },
    StartBackup: {
      in: [network],
      out: [jobId],
      doc: "starts a job that backs the network's state disk up now ([backups.md](backups.md)); returns its id at once. Refused at once when the network has no backup configured, clan-vmd is not running or a restore runs. A backup already running (also a scheduled one) is joined",
      errors: ["UnknownNetwork"],
    },
    StartRestore: {
      in: [network, arg("snapshot", str)],
      out: [jobId],
      doc: "starts a job that restores `snapshot` (an id or a unique prefix of 8+ hex digits; `\"\"` for the latest) with the VM stopped, then starts it again if it was up; returns the job's id at once, and the job's `result` is the id restored. A failure names the step and leaves the previous disk. Refused at once while a backup or another restore of the network runs",
      errors: ["UnknownNetwork"],
    },
    Jobs: { in: [], out: [arg("jobs", list(JobDictionary))], doc: "every job running or ended in the last 15 minutes (at most 100 ended ones), oldest first" },
    GetJob: { in: [jobId], out: [job], doc: "one job; `NotFound` once it has been forgotten", errors: ["NotFound"] },
    Rebuild: {
      in: [network],
      out: [],
      doc: "as `StartRebuild`, replying only when the job ends (or with its error: `BuildFailed` naming the cause and whether it rolled back); kept for older callers — a client with a call timeout uses the `Start…` form",
      errors: ["UnknownNetwork", "InvalidArgument"],
    },
    StartRebuildRevision: {
      in: [network, arg("revision", str)],
      out: [jobId],
      doc: "as `StartRebuild`, of exactly `revision` (a git commit, or a `path:` source's `sha256-…` content hash): `clanctl join` builds the revision the user confirmed with it; the job fails with `BuildFailed` when the source no longer gives that revision",
      errors: ["UnknownNetwork", "InvalidArgument"],
    },
    Rollback: {
      in: [network, arg("to", i32)],
      out: [],
      doc: "as `StartRollback`, replying only when the job ends; kept for older callers",
      errors: ["UnknownNetwork", "NotFound"],
    },
    Generations: { in: [network], out: [arg("generations", list(GenerationDictionary))], doc: "the generations of the network's profile", errors: ["UnknownNetwork"] },
    BuildLog: { in: [network], out: [arg("log", str)], doc: "the last build's log (its last 400 lines)", errors: ["UnknownNetwork"] },
    CheckUpdate: { in: [network], out: [arg("updateAvailable", bool)], doc: "asks the source now and publishes `updateAvailable`", errors: ["UnknownNetwork"] },
    Peers: { in: [network], out: [arg("peers", list(VpnPeerDictionary))], doc: "the network's VPN peers, as clan-vmd's `Peers` gives them", errors: ["UnknownNetwork"] },
    BlockPeer: {
      in: [network, arg("peer", str)],
      out: [],
      doc: "revokes a VPN peer (name or key) at once and for good; through clan-vmd",
      errors: ["UnknownNetwork", "NotFound", "InvalidState"],
    },
    UnblockPeer: { in: [network, arg("peer", str)], out: [], doc: "lets a blocked VPN peer back; through clan-vmd", errors: ["UnknownNetwork", "NotFound", "InvalidState"] },
    BackupNow: {
      in: [network],
      out: [],
      doc: "as `StartBackup`, replying only when the snapshot is stored, or with the error (`BackupFailed`, or clan-vmd's error for the copy); kept for older callers",
      errors: ["UnknownNetwork", "BackupFailed"],
    },
    Backups: { in: [network], out: [arg("snapshots", list(BackupSnapshotDictionary))], doc: "the network's snapshots, oldest first", errors: ["UnknownNetwork", "BackupFailed"] },
    Restore: {
      in: [network, arg("snapshot", str)],
      out: [arg("restored", str)],
      doc: "as `StartRestore`, replying with the id restored when the job ends; kept for older callers",
      errors: ["UnknownNetwork", "BackupFailed"],
    },
    WorkspaceFocused: {
      in: [arg("workspace", plain("s", z.string().max(1024, "is longer than 1024 characters")))],
      out: [],
      doc: "for window managers outside the process (the GNOME extension): the user focused this workspace. The first call also ends clan-sessiond's wait for a sway or i3 ([session.md](session.md#waiting-for-a-window-manager-costs-nothing))",
      errors: ["InvalidArgument"],
    },
    ReloadConfig: { in: [], out: [], doc: "re-reads config.json; fails with the config error, keeping the last good config" },
    NetworkApplications: {
      in: [network],
      out: [arg("applications", NetworkApplicationsDictionary)],
      doc: "the network's configs.json for the manager's Applications form ([manager.md](manager.md#applications)); editable only for a network made with `CreateNetwork`, whose flake is the user's own directory `$XDG_DATA_HOME/clan-desktop/networks/<name>` . Any other flake source (a joined network: its admins' repository) is read-only and shows the configs.json of the source its current generation was built from (the store copy the build recorded, or that revision fetched again pinned, nothing evaluated), never a newer commit; a symlinked, oversized or invalid file there gives no text and a `reason` naming the problem. `InvalidState` for a symlinked or oversized file in the user's own directory",
      errors: ["UnknownNetwork", "InvalidState"],
    },
    SetNetworkApplications: {
      in: [network, arg("configs", ConfigsText), arg("expectedRevision", str)],
      out: [arg("revision", str), arg("diff", strings)],
      doc: "validates `configs` with the schema nix/lib validates with (`InvalidArgument` naming the entry and field of each problem), refuses it when the file is no longer at `expectedRevision` (`InvalidState`: read it again), writes it atomically and returns the new revision and the lines of what changed (`~ entry.field: old → new`, `+ …`, `- …`). Builds nothing: `StartRebuild` does",
      errors: ["UnknownNetwork", "InvalidArgument", "InvalidState"],
    },
    CreateNetwork: {
      in: [arg("name", str), arg("label", str), arg("colour", str), arg("workspace", str)],
      out: [arg("directory", str)],
      doc: "\"New network\": makes the user's own flake from nix/templates/network in `$XDG_DATA_HOME/clan-desktop/networks/<name>` (configs.json's entry named `name`) and adds the network to config.json with it as its source; builds nothing. `InvalidArgument` naming the field (`name`, or config.json's `networks.<name>.colour`, …)",
      errors: ["InvalidArgument", "InvalidState"],
    },
    NetworkUpdatePolicy: {
      in: [network],
      out: [arg("policy", UpdatePolicyDictionary)],
      doc: "the network's `updates` in config.json: automatic update checks and automatic rebuilds",
      errors: ["UnknownNetwork"],
    },
    SetNetworkUpdatePolicy: {
      in: [network, arg("policy", UpdatePolicyDictionary)],
      out: [],
      doc: "writes the network's `updates` into config.json (comments and the rest of the file kept) and applies it at once",
      errors: ["UnknownNetwork", "InvalidState"],
    },
    SetNotifications: {
      in: [arg("enabled", bool)],
      out: [],
      doc: "writes `notifications` into config.json and applies it at once: whether job outcomes and backups are notified (security warnings always are)",
      errors: ["InvalidState"],
    },
    Figures: {
      in: [network],
      out: [arg("figures", VmFiguresDictionary)],
      doc: "one sample of the network's VM figures (CPU time, memory, disk and network bytes), from clan-vmd's `Figures`; `InvalidState` while the VM is not running or paused",
      errors: ["UnknownNetwork", "InvalidState", "Disconnected"],
    },
    WatchFigures: {
      in: [network],
      out: [arg("watchId", str)],
      doc: "streams the network's figures as `FiguresSampled`, one sample a second, from now until the caller calls `UnwatchFigures` or leaves the bus; nothing is sampled while no one watches. At most 8 watches per caller (`OverLimit`)",
      errors: ["UnknownNetwork", "OverLimit"],
    },
    UnwatchFigures: { in: [arg("watchId", str)], out: [], doc: "ends one of the caller's own watches (`NotFound` for another's)", errors: ["NotFound"] },
    ConsoleLog: {
      in: [network],
      out: [arg("text", str)],
      doc: "the last 16 KiB of the VM's serial console (clan-vmd's `ConsoleTail`), made safe to show: line feeds and tabs kept, every other control character and bidi control written out as `\\xNN`/`\\uNNNN`",
      errors: ["UnknownNetwork", "Disconnected"],
    },
  },
  properties: {
    FocusedNetwork: { codec: str, doc: "the network of the focused workspace, `\"\"` when none" },
    ConfigError: { codec: str, doc: "why config.json is not in force, `\"\"` when it is valid" },
    ViewerPids: {
      codec: plain("a{su}", z.record(z.string(), z.number().int().nonnegative())),
      doc: "network → pid of the host process whose windows show its VM (`remote-viewer` for SPICE, clan-viewer for `dbus`, clan-wayland-filter — which runs `waypipe client` — for waypipe), for each network that has one",
    },
    Backend: { codec: str, doc: "`sway`, `i3`, or `none` while no window manager is attached" },
    Notifications: { codec: bool, doc: "`notifications` of the config in force: whether job outcomes and backups are notified" },
  },
  signals: {
    NetworkChanged: { args: [status], doc: "the whole dictionary of one network, whenever any field of it changes" },
    NetworksChanged: { args: [arg("names", strings)], doc: "the network names, after a config reload added or removed some" },
    JobChanged: { args: [job], doc: "the whole [job](#jobs), when it starts, at each step or progress change, and when it ends" },
    FiguresSampled: { args: [arg("figures", VmFiguresDictionary)], doc: "one sample of a watched network's figures (`WatchFigures`), each second while it is watched; all `-1` with the reason in `problems` when it could not be taken" },
    BuildLogChanged: {
      args: [arg("batch", BuildLogLinesDictionary)],
      doc: "a build printed lines: those since the last signal, at most every 250 ms per network. The lines waiting are sent before `BuildLog` answers, so a client that reads `BuildLog` once, ignores this signal while its read is under way and appends the lines of those after it has each line once",
    },
  },
});
