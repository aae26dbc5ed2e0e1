import { ClanError, errorMessage } from "../../shared/errors.js";
import type { GenerationEntry } from "../../shared/session-api.js";
import type { VmdClient } from "../../shared/vmd-client.js";
import { vmStartOptions, type NetworkConfig } from "../config/schema.js";
import { noProgress, type ProgressReport } from "../jobs/job-runner.js";
import type { InputKind } from "../../shared/flake-source/locked-inputs.js";
import type { NetworkRegistry } from "../network-registry.js";
import type { Notify } from "../notifications.js";
import { checkSource, type CheckedSource } from "./checked-source.js";
import { buildGeneration } from "./nix-build.js";
import { addGeneration, currentGeneration, listGenerations, previousGeneration, switchGeneration } from "./nix-profile.js";
import { readRevisions, recordRevision } from "./revisions.js";
import { latestRevision } from "./update-check.js";

// Rebuild, roll back, list generations and look for updates: the NixOS promise of atomic updates and
// rollbacks, for a network VM. A rebuilt generation must prove itself by booting to ready; one that does not
// is rolled back at once, and the user is told.

export interface GenerationActionsOptions {
  registry: NetworkRegistry;
  vmd: () => VmdClient | undefined;
  profileOf: (network: string, config: NetworkConfig) => string;
  /** Another generation became the network's current one (a build, a switch, a rollback): prepare its start. */
  currentChanged: (network: string) => void;
  /** Keeps the reconciler from acting on the VM while it is restarted into another generation. */
  holdVm: (network: string) => () => void;
  /** The inputs the user's config allows beyond locked, remote ones (`join.allowInputs`). */
  allowedInputs: () => readonly InputKind[];
  notify: Notify;
  log: (message: string) => void;
  /** Hears each build's start and every line it prints (BuildLogChanged). */
  buildLogListener?: { started(network: string): void; line(network: string, text: string): void };
}

const LOG_TAIL_LINES = 400;

export class GenerationActions {
  private readonly buildLogs = new Map<string, string[]>();
  private readonly busy = new Set<string>();

  constructor(private readonly options: GenerationActionsOptions) {}

  buildLog(network: string): string {
    return (this.buildLogs.get(network) ?? []).join("\n");
  }

  async generations(network: string): Promise<GenerationEntry[]> {
    const profile = this.profile(network);
    const revisions = await readRevisions(profile);
    return (await listGenerations(profile)).map((generation) => ({
      ...generation,
      revision: revisions[generation.path]?.revision ?? "",
    }));
  }

  /** Throws what would refuse a rebuild of `network` at once, before a job is started for it. */
  checkRebuild(network: string): void {
    this.flakeSource(network);
    this.checkIdle(network);
  }

  /**
   * Fetches the network's source (at `revision` when given: the one the user confirmed when joining), checks its
   * inputs, builds exactly that revision, registers it and boots it. Resolves with what runs now
   * ("generation 3 is running (rev)").
   */
  async rebuild(network: string, progress: ProgressReport = noProgress, revision?: string): Promise<string> {
    const config = this.config(network);
    const { flake, attribute } = this.flakeSource(network);
    return this.exclusively(network, async () => {
      const { registry } = this.options;
      const log: string[] = [];
      this.buildLogs.set(network, log);
      this.options.buildLogListener?.started(network);
      registry.update(network, { buildState: "building", buildProgress: 0, error: "" });
      const profile = this.profile(network);
      let storePath: string;
      let source: CheckedSource;
      try {
        progress("fetching and checking the source");
        source = await checkSource(flake, attribute, this.options.allowedInputs(), revision);
        progress("building", 0);
        storePath = await buildGeneration(source.installable, source.inputUrls, {
          progress: (built) => {
            registry.update(network, { buildProgress: built.fraction });
            progress("building", built.fraction);
          },
          log: (line) => {
            appendBounded(log, line);
            this.options.buildLogListener?.line(network, line);
          },
        });
      } catch (error) {
        registry.update(network, { buildState: "failed", buildProgress: -1, error: `rebuild failed: ${errorMessage(error)}` });
        this.options.notify(`${network}: rebuild failed`, errorMessage(error), "critical");
        throw error;
      }
      const previous = await currentGeneration(profile);
      const number = await addGeneration(profile, storePath);
      // Prepared while the running VM stops, so that the new generation's first start finds its store view.
      this.options.currentChanged(network);
      await recordRevision(profile, storePath, { revision: source.revision, lastModified: source.lastModified, builtAt: Date.now(), sourcePath: source.sourcePath });
      registry.update(network, { buildState: "idle", buildProgress: -1 });
      progress(`booting generation ${number}`);
      try {
        await this.restartInto(network, config);
      } catch (error) {
        progress(`rolling back from generation ${number}`);
        return this.rollBackAfterFailedBoot(network, config, number, previous?.number, error);
      }
      registry.update(network, { updateAvailable: false });
      const running = `generation ${number} is running (${source.revision.slice(0, 12)})`;
      this.options.notify(`${network}: rebuilt`, running, "normal");
      return running;
    });
  }

  /** Throws what would refuse a rollback at once: no generation to go back to, or no generation `to`. */
  async checkRollback(network: string, to?: number): Promise<void> {
    this.checkIdle(network);
    const profile = this.profile(network);
    if (to === undefined) {
      if ((await previousGeneration(profile)) === undefined) throw new ClanError("NotFound", `${network} has no generation before the current one`);
      return;
    }
    const known = (await listGenerations(profile)).map((generation) => generation.number);
    if (!known.includes(to)) throw new ClanError("NotFound", `${profile} has no generation ${to} (it has: ${known.join(", ") || "none"})`);
  }

  /** Switches to generation `to` (default: the previous one) and boots it if the VM was up. */
  async rollback(network: string, to?: number, progress: ProgressReport = noProgress): Promise<string> {
    const config = this.config(network);
    return this.exclusively(network, async () => {
      const profile = this.profile(network);
      const target = to ?? (await previousGeneration(profile))?.number;
      if (target === undefined) throw new ClanError("NotFound", `${network} has no generation before the current one`);
      progress(`switching to generation ${target}`);
      await switchGeneration(profile, target);
      this.options.currentChanged(network);
      const state = this.options.registry.get(network)?.vmState;
      if (state === "running" || state === "paused" || state === "starting") {
        progress(`booting generation ${target}`);
        try {
          await this.restartInto(network, config);
        } catch (error) {
          this.options.notify(`${network}: generation ${target} did not come up`, errorMessage(error), "critical");
          throw error;
        }
      }
      this.options.notify(`${network}: rolled back`, `generation ${target} is current`, "normal");
      await this.checkUpdate(network).catch((error: unknown) => this.options.log(`${network}: update check: ${errorMessage(error)}`));
      return `generation ${target} is current`;
    });
  }

  /** Publishes and returns whether the source has a newer revision than the current generation. */
  async checkUpdate(network: string): Promise<boolean> {
    const config = this.config(network);
    if (!("flake" in config.source)) return false;
    const profile = this.profile(network);
    const current = await currentGeneration(profile);
    const deployed = current ? (await readRevisions(profile))[current.path]?.revision : undefined;
    const latest = await latestRevision(config.source.flake);
    const available = deployed !== latest;
    this.options.registry.update(network, { updateAvailable: available });
    return available;
  }

  private async rollBackAfterFailedBoot(
    network: string,
    config: NetworkConfig,
    failed: number,
    previous: number | undefined,
    cause: unknown,
  ): Promise<never> {
    const reason = errorMessage(cause);
    if (previous === undefined) {
      this.options.registry.update(network, { error: `generation ${failed} did not come up: ${reason}` });
      this.options.notify(`${network}: generation ${failed} did not come up`, reason, "critical");
      throw new ClanError("BuildFailed", `generation ${failed} did not come up, and there is none to roll back to: ${reason}`);
    }
    this.options.log(`${network}: generation ${failed} did not come up (${reason}); rolling back to ${previous}`);
    await switchGeneration(this.profile(network), previous);
    this.options.currentChanged(network);
    await this.restartInto(network, config);
    const message = `generation ${failed} did not come up (${reason}); rolled back to ${previous}`;
    this.options.registry.update(network, { error: message });
    this.options.notify(`${network}: rolled back`, message, "critical");
    throw new ClanError("BuildFailed", message);
  }

  private async restartInto(network: string, config: NetworkConfig): Promise<void> {
    const vmd = this.options.vmd();
    if (!vmd) throw new ClanError("Disconnected", "clan-vmd is not running");
    const { registry } = this.options;
    const release = this.options.holdVm(network);
    try {
      const hasProcess = (await vmd.list()).some((vm) => vm.network === network && vm.state !== "stopped");
      if (hasProcess) registry.applyVmStatus(await vmd.stop(network));
      registry.applyVmStatus(await vmd.start(network, this.profile(network), vmStartOptions(config)));
    } finally {
      release();
    }
  }

  private checkIdle(network: string): void {
    if (this.busy.has(network)) throw new ClanError("Busy", `${network} is already being rebuilt or rolled back`);
  }

  private async exclusively<T>(network: string, body: () => Promise<T>): Promise<T> {
    this.checkIdle(network);
    this.busy.add(network);
    try {
      return await body();
    } finally {
      this.busy.delete(network);
    }
  }

  private flakeSource(network: string): { flake: string; attribute?: string | undefined } {
    const { source } = this.config(network);
    if (!("flake" in source)) throw new ClanError("InvalidArgument", `network ${network} boots the profile ${source.profile}; rebuild needs a flake source`);
    return source;
  }

  private config(network: string): NetworkConfig {
    const config = this.options.registry.config(network);
    if (!config) throw new ClanError("UnknownNetwork", `no network named ${network} in the config`);
    return config;
  }

  private profile(network: string): string {
    return this.options.profileOf(network, this.config(network));
  }
}

function appendBounded(lines: string[], line: string): void {
  lines.push(line);
  if (lines.length > LOG_TAIL_LINES) lines.splice(0, lines.length - LOG_TAIL_LINES);
}
