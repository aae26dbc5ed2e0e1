import { z } from "zod";
import type { MessageSpec } from "./message-spec.js";
import { Rect } from "./rect.js";

// X11 window properties, reported by i3 and by sway for Xwayland windows. A client sets these itself: they are
// claims, not identity.
const WindowProperties = z.looseObject({
  class: z.string().nullish(),
  instance: z.string().nullish(),
  title: z.string().nullish(),
  window_role: z.string().nullish(),
  transient_for: z.number().nullish(),
});
export type WindowProperties = z.infer<typeof WindowProperties>;

// A container of the layout tree. The fields typed here are the ones clan-desktop reads; each WM sends many
// more (gaps, borders, sway's `representation`…), kept by the loose object.
export const TreeNode = z.looseObject({
  id: z.number(),
  /** root, output, workspace, con, floating_con, dockarea */
  type: z.string(),
  name: z.string().nullable(),
  focused: z.boolean(),
  urgent: z.boolean(),
  marks: z.array(z.string()).default([]),
  focus: z.array(z.number()),
  layout: z.string(),
  rect: Rect,
  /** Workspaces only (sway's internal scratchpad workspace has none). */
  num: z.number().optional(),
  /** i3: every container; sway: workspaces. */
  output: z.string().optional(),
  /**
   * The X11 window id: i3, and sway's Xwayland windows. i3 reports no pid: the X server knows it (X-Resource
   * QueryClientIds with the LocalClientPIDMask, from the socket's credentials); _NET_WM_PID is only the client's
   * own claim, and Xt programs such as xmessage set none.
   */
  window: z.number().nullish(),
  window_properties: WindowProperties.optional(),
  /** sway only: the Wayland app_id (null for Xwayland windows). */
  app_id: z.string().nullish(),
  /** sway only: from the Wayland client's socket credentials (Xwayland: the client's _NET_WM_PID claim). */
  pid: z.number().optional(),
  /** sway only: xdg_shell or xwayland. */
  shell: z.string().optional(),
  /** 0: not fullscreen, 1: fullscreen on its output, 2: global fullscreen. */
  fullscreen_mode: z.number().optional(),
  /** i3 only, and only when one is set: sway does not report title_format. */
  title_format: z.string().optional(),
  get nodes(): z.ZodArray<typeof TreeNode> {
    return z.array(TreeNode);
  },
  get floating_nodes(): z.ZodArray<typeof TreeNode> {
    return z.array(TreeNode);
  },
});
export type TreeNode = z.infer<typeof TreeNode>;

export const GET_TREE = { name: "GET_TREE", type: 4, replySchema: TreeNode } as const satisfies MessageSpec;

/** Every node of the tree, depth first, tiling children before floating ones. */
export function* walkTree(root: TreeNode): Generator<TreeNode> {
  yield root;
  for (const child of [...root.nodes, ...root.floating_nodes]) yield* walkTree(child);
}
