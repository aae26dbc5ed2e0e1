import { mkdir, rename, rm, symlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { diffConfigs } from "../../../src/session/config/diff.js";
import { ConfigWatcher, type ConfigWatcherEvents, MIN_DEBOUNCE_MS } from "../../../src/session/config/watcher.js";
import { configText, makeTempDir, networkInput, type TempDir } from "./fixtures.js";

const family = networkInput({ workspaces: ["1:family"], colour: "#3366ff" });
const club = networkInput({ workspaces: ["2:club"], colour: "#00aa55" });

/** Resolves with the arguments of the next `event`; fails on a watcher error or after `timeoutMs`. */
function nextEvent<E extends keyof ConfigWatcherEvents>(
  watcher: ConfigWatcher,
  event: E,
  timeoutMs = 5000,
): Promise<ConfigWatcherEvents[E]> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => finish(() => reject(new Error(`no "${event}" within ${timeoutMs} ms`))), timeoutMs);
    const onEvent = (...args: unknown[]) => finish(() => resolve(args as ConfigWatcherEvents[E]));
    const onError = (error: Error) => finish(() => reject(error));
    const finish = (settle: () => void) => {
      clearTimeout(timer);
      watcher.off(event, onEvent as never);
      watcher.off("error", onError);
      settle();
    };
    watcher.on(event, onEvent as never);
    watcher.on("error", onError);
  });
}

/** Records every applied/rejected event, for checking what did *not* happen. */
function recordEvents(watcher: ConfigWatcher): string[] {
  const events: string[] = [];
  watcher.on("applied", (config) => events.push(`applied ${Object.keys(config.networks).join(",")}`));
  watcher.on("rejected", (error) => events.push(`rejected ${error.kind}`));
  return events;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitFor(condition: () => boolean, what: string, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

function countFileWatchHandles(): number {
  return process.getActiveResourcesInfo().filter((resource) => resource === "FSEventWrap").length;
}

let dir: TempDir;
let file: string;
let watcher: ConfigWatcher | undefined;

beforeEach(async () => {
  dir = await makeTempDir();
  file = dir.file("config.json");
});
afterEach(async () => {
  await watcher?.close();
  watcher = undefined;
  await dir.remove();
});

async function startWatcher(path = file): Promise<ConfigWatcher> {
  watcher = new ConfigWatcher(path, { debounceMs: MIN_DEBOUNCE_MS });
  watcher.on("error", () => undefined); // nextEvent turns errors into failures; this keeps EventEmitter from throwing
  await watcher.start();
  return watcher;
}

describe("ConfigWatcher", () => {
  it("publishes the initial config as applied over the empty config", async () => {
    await writeFile(file, configText({ family }));
    watcher = new ConfigWatcher(file, { debounceMs: MIN_DEBOUNCE_MS });
    const applied = nextEvent(watcher, "applied");
    const result = await watcher.start();
    const [config, previous] = await applied;
    expect(result).toEqual({ ok: true, config });
    expect(Object.keys(config.networks)).toEqual(["family"]);
    expect(previous.networks).toEqual({});
    expect(watcher.current).toBe(config);
    expect(watcher.lastError).toBeUndefined();
  });

  it("starts with no networks when the file is missing, and applies it once it appears", async () => {
    watcher = new ConfigWatcher(file, { debounceMs: MIN_DEBOUNCE_MS });
    const rejected = nextEvent(watcher, "rejected");
    await watcher.start();
    expect((await rejected)[0]).toMatchObject({ kind: "missing", file });
    expect(watcher.current.networks).toEqual({});
    expect(watcher.lastError?.kind).toBe("missing");

    const applied = nextEvent(watcher, "applied");
    await writeFile(file, configText({ family }));
    const [config, previous] = await applied;
    expect(diffConfigs(previous, config).added).toEqual(["family"]);
    expect(watcher.lastError).toBeUndefined();
  });

  it("starts with no networks when the file is invalid", async () => {
    await writeFile(file, "{ not json");
    watcher = new ConfigWatcher(file, { debounceMs: MIN_DEBOUNCE_MS });
    const rejected = nextEvent(watcher, "rejected");
    const result = await watcher.start();
    expect(result.ok).toBe(false);
    expect((await rejected)[0].kind).toBe("syntax");
    expect(watcher.current.networks).toEqual({});
  });

  it("picks up a file whose directories do not exist yet", async () => {
    const nested = join(dir.path, "home", "clan-desktop", "config.json");
    await startWatcher(nested);
    const applied = nextEvent(watcher!, "applied");
    await mkdir(join(dir.path, "home", "clan-desktop"), { recursive: true });
    await writeFile(nested, configText({ club }));
    expect(Object.keys((await applied)[0].networks)).toEqual(["club"]);
  });

  it("applies a valid edit, rejects an invalid one keeping the last good config, then applies again", async () => {
    await writeFile(file, configText({ family }));
    const w = await startWatcher();
    const first = w.current;

    let applied = nextEvent(w, "applied");
    await writeFile(file, configText({ family: { ...family, colour: "#ff0000" }, club }));
    const [second, previous] = await applied;
    expect(previous).toBe(first);
    expect(diffConfigs(previous, second)).toMatchObject({ added: ["club"], changed: [{ name: "family", fields: ["colour"] }] });
    expect(w.current).toBe(second);

    const rejected = nextEvent(w, "rejected");
    await writeFile(file, configText({ family: { ...family, colour: "ff0000" }, club }));
    const [error] = await rejected;
    expect(error).toMatchObject({ kind: "invalid", file, problems: [{ path: "networks.family.colour" }] });
    expect(w.current).toBe(second);
    expect(w.lastError).toBe(error);

    applied = nextEvent(w, "applied");
    await writeFile(file, configText({ club }));
    const [third, beforeThird] = await applied;
    expect(beforeThird).toBe(second);
    expect(diffConfigs(beforeThird, third).removed).toEqual(["family"]);
    expect(w.lastError).toBeUndefined();
  });

  it("picks up a save that writes a temporary file and renames it over the config (VS Code, atomic writers)", async () => {
    await writeFile(file, configText({ family }));
    const w = await startWatcher();
    const applied = nextEvent(w, "applied");
    await writeFile(dir.file(".config.json.tmp"), configText({ family, club }));
    await rename(dir.file(".config.json.tmp"), file);
    expect(Object.keys((await applied)[0].networks).sort()).toEqual(["club", "family"]);
  });

  it("picks up a save that moves the old file to a backup and writes a new one (vim)", async () => {
    await writeFile(file, configText({ family }));
    const w = await startWatcher();
    const applied = nextEvent(w, "applied");
    await rename(file, dir.file("config.json~"));
    await writeFile(file, configText({ club }));
    await rm(dir.file("config.json~"));
    expect(Object.keys((await applied)[0].networks)).toEqual(["club"]);
  });

  it("picks up a symlinked file being re-pointed (home-manager)", async () => {
    await writeFile(dir.file("generation-1.json"), configText({ family }));
    await writeFile(dir.file("generation-2.json"), configText({ club }));
    await symlink(dir.file("generation-1.json"), file);
    const w = await startWatcher();
    expect(Object.keys(w.current.networks)).toEqual(["family"]);
    const applied = nextEvent(w, "applied");
    await symlink(dir.file("generation-2.json"), dir.file("config.json.new"));
    await rename(dir.file("config.json.new"), file);
    expect(Object.keys((await applied)[0].networks)).toEqual(["club"]);
  });

  it("keeps the last good config when the file is deleted", async () => {
    await writeFile(file, configText({ family }));
    const w = await startWatcher();
    const good = w.current;
    const rejected = nextEvent(w, "rejected");
    await rm(file);
    expect((await rejected)[0].kind).toBe("missing");
    expect(w.current).toBe(good);
  });

  it("reads a burst of writes once", async () => {
    await writeFile(file, configText({ family }));
    watcher = new ConfigWatcher(file, { debounceMs: 150 });
    await watcher.start();
    const events = recordEvents(watcher);
    const applied = nextEvent(watcher, "applied");
    for (const colour of ["#000001", "#000002", "#000003", "#000004"]) {
      await writeFile(file, configText({ family: { ...family, colour } }));
    }
    const [config] = await applied;
    expect(config.networks.family?.colour).toBe("#000004");
    await watcher.close(); // closing drops anything still pending, so the count below is final
    expect(events).toEqual(["applied family"]);
  });

  it("reloads on request", async () => {
    await writeFile(file, configText({ family }));
    const w = await startWatcher();
    const result = await w.reload();
    expect(result.ok && Object.keys(result.config.networks)).toEqual(["family"]);
  });

  it("leaves no watcher behind and publishes nothing after close, even with a change just seen", async () => {
    const handlesBefore = countFileWatchHandles();
    await writeFile(file, configText({ family }));
    const w = await startWatcher();
    expect(countFileWatchHandles()).toBeGreaterThan(handlesBefore);
    const events = recordEvents(w);
    await writeFile(file, configText({ club }));
    await sleep(MIN_DEBOUNCE_MS / 3); // long enough for chokidar to report the write, too short for the reload
    await w.close();
    await waitFor(() => countFileWatchHandles() === handlesBefore, "file watch handles to be released");
    await sleep(2 * MIN_DEBOUNCE_MS); // a reload timer that survived close would fire within this
    expect(events).toEqual([]);
    expect(Object.keys(w.current.networks)).toEqual(["family"]);
  });
});
