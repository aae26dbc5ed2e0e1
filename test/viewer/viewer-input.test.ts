import { describe, expect, it } from "vitest";
import { checkScanout, checkUpdate, PIXMAN_X8R8G8B8 } from "../../src/viewer/frame-checks.js";
import { copiedNotice, hostTextOfGuestClipboard } from "../../src/viewer/clipboard-text.js";
import { qnumOfKeycode } from "../../src/viewer/keymap.js";
import { parseArguments } from "../../src/viewer/main.js";
import { contrastingText } from "../../src/viewer/viewer-window.js";

describe("clan-viewer's checks of what QEMU (and so the guest) sends", () => {
  it("takes a scanout whose pixels fill its rows", () => {
    expect(() => checkScanout({ width: 720, height: 400 }, 2880, PIXMAN_X8R8G8B8, 2880 * 400)).not.toThrow();
  });

  it("refuses a scanout with fewer bytes than its size says", () => {
    expect(() => checkScanout({ width: 720, height: 400 }, 2880, PIXMAN_X8R8G8B8, 2880 * 399)).toThrow(/fewer than/);
  });

  it("refuses a scanout of absurd size, a short stride and a pixel format it does not draw", () => {
    expect(() => checkScanout({ width: 100_000, height: 1 }, 400_000, PIXMAN_X8R8G8B8, 400_000)).toThrow(/outside/);
    expect(() => checkScanout({ width: 10, height: 10 }, 39, PIXMAN_X8R8G8B8, 4000)).toThrow(/stride/);
    expect(() => checkScanout({ width: 10, height: 10 }, 40, 0x10020565, 4000)).toThrow(/pixel format/);
  });

  it("refuses an update that reaches outside the screen, which could otherwise paint beyond it", () => {
    const screen = { width: 640, height: 480 };
    expect(() => checkUpdate(screen, { x: 600, y: 0, width: 41, height: 1 }, 164, PIXMAN_X8R8G8B8, 164)).toThrow(/outside/);
    expect(() => checkUpdate(screen, { x: -1, y: 0, width: 1, height: 1 }, 4, PIXMAN_X8R8G8B8, 4)).toThrow(/outside/);
    expect(() => checkUpdate(screen, { x: 0, y: 0, width: 640, height: 480 }, 2560, PIXMAN_X8R8G8B8, 2560 * 480)).not.toThrow();
  });
});

describe("clan-viewer's keys", () => {
  it("maps GTK keycodes (evdev + 8) to QEMU's qnum", () => {
    expect(qnumOfKeycode(30 + 8)).toBe(0x1e); // A
    expect(qnumOfKeycode(28 + 8)).toBe(0x1c); // Enter
    expect(qnumOfKeycode(103 + 8)).toBe(0xc8); // Up
    expect(qnumOfKeycode(240 + 8)).toBeUndefined();
  });
});

describe("clan-viewer's arguments", () => {
  it("takes a bus address, a label and a colour", () => {
    expect(parseArguments(["--address", "unix:path=/run/x/bus", "--label", "family", "--colour", "#3366cc"])).toEqual({ address: "unix:path=/run/x/bus", label: "family", colour: "#3366cc" });
  });

  it("refuses a colour that is not #rrggbb, which would otherwise reach the style sheet", () => {
    expect(() => parseArguments(["--address", "unix:path=/run/x/bus", "--label", "family", "--colour", "red; } * { color: red"])).toThrow(/colour/);
  });

  it("picks readable label text on the network's colour", () => {
    expect(contrastingText("#ffffff")).toBe("#000000");
    expect(contrastingText("#202060")).toBe("#ffffff");
  });
});

describe("clan-viewer's handling of the guest's clipboard text", () => {
  it("leaves out escape, bell and lone carriage return, keeps tabs and line feeds, and counts what it left out", () => {
    const guestText = hostTextOfGuestClipboard(Buffer.from("a\tb\x1b[201~c\r\nd\re\x07\u009bf"));
    expect(guestText).toEqual({ text: "a\tb[201~c\ndef", removed: 4 });
  });

  it("decodes invalid UTF-8 as U+FFFD rather than passing the bytes on", () => {
    expect(hostTextOfGuestClipboard(Buffer.from([0x61, 0xff, 0x62])).text).toBe("a\ufffdb");
  });

  it("shows a short, escaped preview: no line break, bidi override or long text reaches the notice", () => {
    const notice = copiedNotice(hostTextOfGuestClipboard(Buffer.from(`x\n\u202e${"y".repeat(200)}`)));
    expect(notice).toMatch(/^copied 203 characters from the guest: “x\\u\{000A\}\\u\{202E\}y+…”$/);
    expect(notice.length).toBeLessThan(120);
  });
});
