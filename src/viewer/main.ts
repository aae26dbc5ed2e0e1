import { z } from "zod";
import { ClanError } from "../shared/errors.js";
import { VIEWER_LABEL_LIMIT, VIEWER_UNAVAILABLE_EXIT } from "../shared/viewer-launch.js";
import { MessageChannel } from "node:worker_threads";
import { GBytesReader } from "./gbytes-reader.js";
import { GuestClipboard } from "./guest-clipboard.js";
import { loadGi } from "./gi.js";
import { QemuDisplay } from "./qemu-display.js";
import { chooseRenderer } from "./renderer-choice.js";
import { memoryFileDirectory } from "./screen-file.js";
import { ViewerWindow } from "./viewer-window.js";

// clan-viewer: one process per running network VM with a D-Bus display. clan-sessiond starts it with the VM's
// display bus and the network's label and colour (docs/display.md).

const Arguments = z.object({
  address: z.string().regex(/^unix:path=\/[^,;]+$/, { error: "--address must be a D-Bus address unix:path=/..." }),
  label: z.string().min(1).max(VIEWER_LABEL_LIMIT),
  colour: z.string().regex(/^#[0-9a-fA-F]{6}$/, { error: 'must be a colour "#rrggbb"' }),
});

export type ViewerArguments = z.infer<typeof Arguments>;

export function parseArguments(argv: string[]): ViewerArguments {
  const values: Record<string, string> = {};
  for (let index = 0; index < argv.length; index += 2) {
    const flag = argv[index];
    const value = argv[index + 1];
    if (!flag?.startsWith("--") || value === undefined) throw new ClanError("InvalidArgument", `usage: clan-viewer --address unix:path=BUS --label LABEL --colour '#rrggbb' (at ${JSON.stringify(flag)})`);
    values[flag.slice(2)] = value;
  }
  const parsed = Arguments.safeParse(values);
  if (!parsed.success) throw new ClanError("InvalidArgument", parsed.error.issues.map((issue) => `--${issue.path.join(".")}: ${issue.message}`).join("; "));
  return parsed.data;
}

export async function main(argv: string[]): Promise<void> {
  const args = parseArguments(argv);
  const gi = await loadGi().catch((error: unknown) => {
    // Not a failure a restart would mend: clan-sessiond reads this status and says so once (docs/display.md).
    process.stderr.write(`clan-viewer: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(VIEWER_UNAVAILABLE_EXIT);
  });
  const { Gtk, Gio } = gi;
  const log = (message: string) => process.stderr.write(`clan-viewer: ${message}\n`);
  const display = new QemuDisplay(gi, args.address);
  const app = new Gtk.Application({ flags: Gio.ApplicationFlags.NON_UNIQUE });
  app.on("activate", () => {
    try {
      start();
    } catch (error) {
      // node-gtk drops what a signal handler throws: the viewer ends, naming the cause.
      log(`cannot show the VM's display: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = 1;
      app.quit();
    }
  });
  // Once GTK's application ends (the window closed, or a signal) the viewer exits at once. After "shutdown",
  // GApplication flushes its session bus connection and waits for GDBus's one worker thread, which may be inside the
  // listener filter, waiting for this thread to run it: a deadlock seen with gdb, so the flush never happens.
  const timers: NodeJS.Timeout[] = [];
  app.on("shutdown", () => {
    for (const timer of timers) clearInterval(timer);
    process.exit(process.exitCode ?? 0);
  });
  const start = () => {
    // Before the window exists: GTK picks its renderer when the window is realized.
    const renderer = chooseRenderer(gi, process.env);
    log(`renderer: ${renderer.renderer}, since ${renderer.reason}`);
    const memoryDir = memoryFileDirectory(process.env);
    const reader = new GBytesReader(gi, memoryDir);
    const viewer = new ViewerWindow(gi, app, { label: args.label, colour: args.colour }, display, new GuestClipboard(gi, args.address, reader), reader, memoryDir, log);
    display.followConsoleSize((width, height) => viewer.screen.resize(width, height));
    display.registerListener(viewer.screen);
    viewer.window.present();
    if (process.env.CLAN_VIEWER_STATS) {
      timers.push(setInterval(() => log(`stats ${JSON.stringify({ ...viewer.screen.counters, ...viewer.screen.size })}`), 1000));
    }
  };
  keepLibuvPolled();
  // SIGINT and SIGTERM end the viewer cleanly (exit 0) through Node's own handlers, which run while libuv turns:
  // a GLib.unixSignalAdd callback was not called under node-gtk.
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => app.quit());
  app.run([]);
}

/**
 * node-gtk runs libuv inside GLib's loop, but polls libuv's descriptor only while libuv holds a referenced handle. Its
 * own hand-over of GDBus's worker-thread calls (the listener filter) and Node's signal handlers are unreferenced: with
 * nothing else, a frame from QEMU would wait forever and SIGTERM would go unheard. An open message port is such a
 * handle that never fires, so GLib sleeps in poll() until a descriptor is ready, with no periodic wake-up.
 */
function keepLibuvPolled(): void {
  const channel = new MessageChannel();
  channel.port1.on("message", () => undefined);
  keepAlive.push(channel);
}
const keepAlive: MessageChannel[] = [];
