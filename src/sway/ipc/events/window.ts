import { z } from "zod";
import { TreeNode } from "../messages/get-tree.js";
import type { EventSpec } from "./event-spec.js";

// change: new, close, focus, title, fullscreen_mode, move, floating, urgent, mark. The container is a tree node:
// id, name, marks; sway adds pid and app_id; i3 and Xwayland windows have window (the X11 id) and
// window_properties (class, instance, title).
export const WindowEvent = z.looseObject({
  change: z.string(),
  container: TreeNode,
});
export type WindowEvent = z.infer<typeof WindowEvent>;

export const WINDOW_EVENT = { name: "window", type: 3, schema: WindowEvent } as const satisfies EventSpec;
