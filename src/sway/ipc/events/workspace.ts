import { z } from "zod";
import { TreeNode } from "../messages/get-tree.js";
import type { EventSpec } from "./event-spec.js";

// change: focus, init, empty, urgent, rename, reload, restored, move. `current` and `old` are workspace nodes
// (name, num, focused, output); `old` is null when there was none, and both may be absent on "reload".
export const WorkspaceEvent = z.looseObject({
  change: z.string(),
  current: TreeNode.nullish(),
  old: TreeNode.nullish(),
});
export type WorkspaceEvent = z.infer<typeof WorkspaceEvent>;

export const WORKSPACE_EVENT = { name: "workspace", type: 0, schema: WorkspaceEvent } as const satisfies EventSpec;
