import { z } from "zod";
import type { MessageSpec } from "./message-spec.js";
import { Rect } from "./rect.js";

const Workspace = z.looseObject({
  /** Present in sway and in i3 ≥ 4.21: the container id, usable as `[con_id=…]`. */
  id: z.number().optional(),
  /** -1 for a workspace whose name does not start with a number. */
  num: z.number(),
  name: z.string(),
  visible: z.boolean(),
  focused: z.boolean(),
  urgent: z.boolean(),
  output: z.string(),
  rect: Rect,
});
export type Workspace = z.infer<typeof Workspace>;

export const GetWorkspacesReply = z.array(Workspace);
export type GetWorkspacesReply = z.infer<typeof GetWorkspacesReply>;

export const GET_WORKSPACES = { name: "GET_WORKSPACES", type: 1, replySchema: GetWorkspacesReply } as const satisfies MessageSpec;
