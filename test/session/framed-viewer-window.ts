import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import type { TreeNode } from "../../src/sway/ipc/messages/get-tree.js";
import { REPO, waitUntil } from "../helpers/daemons.js";
import { countPixels } from "../helpers/screenshot.js";

// What the dbus-display e2e tests on sway and on i3 check alike of clan-viewer's window, once the window manager
// has put it on the network's workspace: the guest's screen inside, clan-viewer's own frame around it in the
// network's colour, and none of the guest's pixels on that frame.

/** VGA's light grey (palette 7) in which SeaBIOS writes its banner on the guest's screen. */
const GUEST_TEXT = "#a8a8a8";
const FRAME_BORDER = 4;
/** clan-viewer's label strip above the picture. */
const LABEL_STRIP = 24;
const OUTPUT = join(REPO, "test-output", "viewer");

interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface FramedViewerCheck {
  /** The viewer's node in the window manager's tree. */
  node: TreeNode;
  colour: string;
  /** The screenshot's name under test-output/viewer/. */
  shotName: string;
  screenshot: (path: string) => Promise<unknown>;
  /** Said when the guest's text never shows. */
  explain: () => string;
}

/** Waits for the guest's text inside the viewer, then checks its frame; returns the screenshot and the client's area. */
export async function expectGuestScreenInViewerFrame(check: FramedViewerCheck): Promise<{ shot: string; rect: Rect }> {
  const { node, colour } = check;
  // The client's own area inside the window manager's decoration: clan-viewer's frame is its outermost pixels.
  const windowRect = node["window_rect"] as Rect;
  const rect = { x: node.rect.x + windowRect.x, y: node.rect.y + windowRect.y, width: windowRect.width, height: windowRect.height };
  const inside = { x: rect.x + FRAME_BORDER, y: rect.y + LABEL_STRIP, width: rect.width - 2 * FRAME_BORDER, height: rect.height - LABEL_STRIP - FRAME_BORDER };
  mkdirSync(OUTPUT, { recursive: true });
  const shot = join(OUTPUT, check.shotName);
  await waitUntil(async () => {
    await check.screenshot(shot);
    return (await countPixels(shot, inside, GUEST_TEXT, 8)) > 500 ? true : undefined;
  }, `the guest's text inside the viewer:\n${check.explain()}`, 120_000);
  // clan-viewer's frame: its left and right borders in the network's colour, with none of the guest's pixels on it.
  const left = { x: rect.x, y: rect.y + 40, width: FRAME_BORDER, height: rect.height - 80 };
  const right = { x: rect.x + rect.width - FRAME_BORDER, y: rect.y + 40, width: FRAME_BORDER, height: rect.height - 80 };
  for (const border of [left, right]) {
    expect(await countPixels(shot, border, colour)).toBe(border.width * border.height);
    expect(await countPixels(shot, border, GUEST_TEXT, 8)).toBe(0);
  }
  return { shot, rect };
}
