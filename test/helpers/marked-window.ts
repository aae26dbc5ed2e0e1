import { walkTree, type TreeNode } from "../../src/sway/ipc/messages/get-tree.js";

/** The window with `mark` in a sway/i3 tree, and the name of the workspace it is on; undefined while there is none. */
export function markedWindow(tree: TreeNode, mark: string): { node: TreeNode; workspace: string } | undefined {
  for (const workspace of [...walkTree(tree)].filter((n) => n.type === "workspace")) {
    const node = [...walkTree(workspace)].find((n) => n.marks.includes(mark));
    if (node) return { node, workspace: workspace.name ?? "" };
  }
  return undefined;
}
