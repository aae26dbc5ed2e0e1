import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { focusWorkspace } from "../../src/sway/commands.js";
import { IpcClient } from "../../src/sway/ipc/client.js";
import { IpcCommandError, IpcTimeoutError } from "../../src/sway/ipc/errors.js";
import type { SubscriptionItem } from "../../src/sway/ipc/event-subscription.js";
import type { WindowEvent } from "../../src/sway/ipc/events/window.js";
import type { WorkspaceEvent } from "../../src/sway/ipc/events/workspace.js";
import { walkTree } from "../../src/sway/ipc/messages/get-tree.js";
import { within } from "../helpers/processes.js";
import { WM_KINDS, canOpenWindows, collectUntil, nextMatching, type WmUnderTest } from "./wm-under-test.js";

// The IPC client against real WMs: headless sway 1.7 (as user clantest) and i3 4.22 under Xvfb.

const CLOSE_AND_EXIT = fileURLToPath(new URL("fixtures/close-and-exit.ts", import.meta.url));

type WorkspaceItem = { kind: "workspace"; event: WorkspaceEvent };
type WindowItem = { kind: "window"; event: WindowEvent };

const workspaceFocus =
  (name: string) =>
  (item: SubscriptionItem): item is WorkspaceItem =>
    item.kind === "workspace" && item.event.change === "focus" && item.event.current?.name === name;

for (const kind of WM_KINDS) {
  describe.skipIf(kind.skip !== "")(`IPC client on real ${kind.name}${kind.skip}`, () => {
    let wm: WmUnderTest;
    const clients: IpcClient[] = [];
    const connect = async (): Promise<IpcClient> => {
      const client = await IpcClient.connect({ discover: wm.discover, requestTimeoutMs: 5000, reconnect: { initialDelayMs: 20, maxDelayMs: 200 } });
      clients.push(client);
      return client;
    };

    beforeAll(async () => {
      wm = await kind.start();
    });
    afterEach(() => {
      for (const client of clients.splice(0)) client.close();
    });
    afterAll(async () => {
      await wm?.stop();
    });

    it("answers GET_VERSION, GET_OUTPUTS, GET_WORKSPACES, GET_TREE and GET_MARKS with replies that match their schemas", async () => {
      const client = await connect();
      const version = await client.getVersion();
      if (kind.name === "sway") expect(version).toMatchObject({ variant: "sway", major: 1, minor: 7 });
      else expect(version).toMatchObject({ major: 4, minor: 22 });
      expect((await client.getOutputs()).some((output) => output.active)).toBe(true);
      expect((await client.getWorkspaces()).some((workspace) => workspace.focused)).toBe(true);
      const tree = await client.getTree();
      expect([...walkTree(tree)].some((node) => node.type === "workspace")).toBe(true);
      expect(await client.getMarks()).toEqual(expect.any(Array));
    });

    it("delivers a workspace event with name, num, focused and output when focus moves", async () => {
      const client = await connect();
      const events = await client.subscribe(["workspace"]);
      await client.runCommand("workspace number 3");
      const focus = await nextMatching(events, workspaceFocus("3"));
      expect(focus.event.current).toMatchObject({ name: "3", num: 3, focused: true, output: expect.any(String) });
    });

    it("turns a refused command into IpcCommandError naming the command and the WM's error", async () => {
      const client = await connect();
      const error = await client.runCommand("workspace number 4; no_such_command 1").catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(IpcCommandError);
      expect(error).toMatchObject({ code: "COMMAND_FAILED", command: "workspace number 4; no_such_command 1" });
      expect((error as IpcCommandError).message).toMatch(/no_such_command/);
      expect((error as IpcCommandError).outcomes.map((outcome) => outcome.success)).toEqual([true, false]);
    });

    it("uses a tick as a barrier: every event the WM emitted before it has arrived", async () => {
      const client = await connect();
      const events = await client.subscribe(["workspace", "tick"]);
      await client.runCommand(`${focusWorkspace("barrier one", kind.name)}; ${focusWorkspace("barrier two", kind.name)}`);
      const before = await client.barrier(events);
      expect(before.some(workspaceFocus("barrier one"))).toBe(true);
      expect(before.some(workspaceFocus("barrier two"))).toBe(true);
      expect(before.filter((item) => item.kind === "tick" && !item.event.first)).toEqual([]);
    });

    it("fails a request that gets no answer in time, then recovers on a fresh connection", async () => {
      const client = await connect();
      process.kill(wm.pid, "SIGSTOP");
      try {
        await expect(client.getVersion({ timeoutMs: 300 })).rejects.toBeInstanceOf(IpcTimeoutError);
      } finally {
        process.kill(wm.pid, "SIGCONT");
      }
      expect((await client.getVersion()).major).toBeGreaterThan(0);
    });

    it("close() leaves no timer or socket behind: a process that closes its clients exits by itself", async () => {
      const result = await execa("node", ["--import", "tsx", CLOSE_AND_EXIT, wm.socketPath], { reject: false, timeout: 15_000 });
      expect(result.timedOut, "the process did not exit by itself").toBe(false);
      expect(result.stderr).toBe("");
      expect(result.stdout).toBe("closed");
    });

    it.skipIf(!canOpenWindows(kind))(`delivers window events for a real window${canOpenWindows(kind) ? "" : ` [skipped: ${kind.windowProgram} not installed]`}`, async () => {
      const client = await connect();
      const events = await client.subscribe(["window"]);
      const window = wm.openWindow();
      const isOurs =
        (change: string) =>
        (item: SubscriptionItem): item is WindowItem =>
          item.kind === "window" && item.event.change === change && window.isIt(item.event.container);
      const opened = await nextMatching(events, isOurs("new"), 10_000);
      const container = opened.event.container;
      if (kind.name === "sway") {
        expect(container).toMatchObject({ app_id: "remote-viewer", pid: window.process.pid, shell: "xdg_shell" });
      } else {
        expect(container.window).toEqual(expect.any(Number));
        expect(container.window_properties).toMatchObject({ class: "Xmessage" });
      }
      expect([...walkTree(await client.getTree())].some((node) => node.id === container.id)).toBe(true);
      window.process.kill("SIGTERM");
      await nextMatching(events, isOurs("close"), 10_000);
    });

    for (const mode of kind.restartModes) {
      it(`follows ${kind.name} through a restart (${mode}): resubscribes, says so, and events flow again`, async () => {
        const client = await connect();
        const events = await client.subscribe(["workspace", "shutdown"]);
        const commandConnectionBack = new Promise<string>((resolve) => client.once("reconnected", resolve));
        const socketBefore = wm.socketPath;

        await wm.restart(mode);
        const { before, match: reconnected } = await collectUntil(
          events,
          (item): item is Extract<SubscriptionItem, { kind: "reconnected" }> => item.kind === "reconnected",
        );
        expect(reconnected.socketPath).toBe(wm.socketPath);
        if (kind.name === "sway") expect(wm.socketPath).not.toBe(socketBefore);
        // i3 announces both kinds of end; sway announces only its `exit` command, not the SIGTERM used here.
        const shutdowns = before.flatMap((item) => (item.kind === "shutdown" ? [item.event.change] : []));
        expect(shutdowns).toEqual(
          kind.name === "i3" ? [mode === "in-place" ? "restart" : "exit"] : [],
        );

        // Issued at once: it waits for the command connection if that is not back yet.
        await client.runCommand(focusWorkspace("after restart", kind.name));
        await nextMatching(events, workspaceFocus("after restart"));
        expect(await within(commandConnectionBack, 5000, "the command connection to come back")).toBe(wm.socketPath);
      });
    }
  });
}
