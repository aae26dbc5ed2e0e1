import { isDeepStrictEqual } from "node:util";
import type { Config, NetworkConfig } from "./schema.js";

// What a valid edit changed, so the session can apply it to a running session: start tracking added networks,
// stop removed ones, and for changed ones do only what the changed fields need (a new colour redecorates windows;
// a new source means new generations; a new onLeave policy applies at the next leave).

export type NetworkField = keyof NetworkConfig;
/** Top-level settings, that is every field but the networks and the editor-only `$schema`. */
export type SettingName = Exclude<keyof Config, "networks" | "$schema">;

export interface NetworkChange {
  readonly name: string;
  /** Sorted by name. */
  readonly fields: readonly NetworkField[];
}

export interface ConfigDiff {
  /** Each list sorted by name, so that applying a diff and logging it are deterministic. */
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly changed: readonly NetworkChange[];
  readonly settingsChanged: readonly SettingName[];
}

export function diffConfigs(previous: Config, next: Config): ConfigDiff {
  const added: string[] = [];
  const changed: NetworkChange[] = [];
  for (const [name, network] of Object.entries(next.networks).sort(byName)) {
    const before = previous.networks[name];
    if (before === undefined) added.push(name);
    else {
      const fields = changedKeys(before, network);
      if (fields.length > 0) changed.push({ name, fields });
    }
  }
  return {
    added,
    removed: Object.keys(previous.networks).filter((name) => next.networks[name] === undefined).sort(),
    changed,
    settingsChanged: changedKeys(settingsOf(previous), settingsOf(next)),
  };
}

export function isEmptyDiff(diff: ConfigDiff): boolean {
  return diff.added.length + diff.removed.length + diff.changed.length + diff.settingsChanged.length === 0;
}

function settingsOf({ networks: _networks, $schema: _schema, ...settings }: Config): Record<SettingName, unknown> {
  return settings;
}

/** Keys whose values differ; a key present on one side only counts as differing. */
function changedKeys<T extends object>(previous: T, next: T): (keyof T)[] {
  const keys = new Set([...Object.keys(previous), ...Object.keys(next)] as (keyof T)[]);
  return [...keys].filter((key) => !isDeepStrictEqual(previous[key], next[key])).sort();
}

function byName([a]: [string, unknown], [b]: [string, unknown]): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
