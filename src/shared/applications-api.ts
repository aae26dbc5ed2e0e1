import { z } from "zod";
import { dictionary, plain } from "./contracts/define.js";

// The messages of clan-sessiond's Applications and Settings methods (contracts/session.ts): a network's configs.json
// as the manager's form reads and writes it, what a save changed, and the user's update policy of a network.

/** Larger than any real configs.json: clan-sessiond refuses a bigger file or argument before parsing it. */
export const CONFIGS_MAX_CHARS = 256 * 1024;

export const ConfigsText = plain("s", z.string().max(CONFIGS_MAX_CHARS, `is longer than ${CONFIGS_MAX_CHARS} characters`));

export const NetworkApplications = z.object({
  configs: z.string(),
  revision: z.string(),
  entry: z.string(),
  editable: z.boolean(),
  reason: z.string(),
  path: z.string(),
});
export type NetworkApplications = z.infer<typeof NetworkApplications>;

export const NetworkApplicationsDictionary = dictionary("NetworkApplications", NetworkApplications, {
  configs: { codec: "s", doc: "the text of the network's configs.json; for a read-only one, as its current generation was built from it; `\"\"` when it does not exist yet or cannot be shown (`reason` says why)" },
  revision: { codec: "s", doc: "sha256 of that text (`\"\"`: no file): `SetNetworkApplications` writes only over this revision" },
  entry: { codec: "s", doc: "the entry of configs.json the network builds (the last part of its source's `attribute`)" },
  editable: { codec: "b", doc: "whether clan-sessiond writes it: only for a network made with `CreateNetwork`" },
  reason: { codec: "s", doc: "why it is not editable, and for a joined network which generation it is shown from (`joined: its admins keep this in …; shown as built in generation 2 (rev 0123456789ab)`) or why nothing is shown; `\"\"` when it is editable" },
  path: { codec: "s", doc: "the file's path (in the Nix store for a joined network); `\"\"` when there is none" },
});

export const UpdatePolicy = z.object({ check: z.boolean(), rebuild: z.boolean() });
export type UpdatePolicy = z.infer<typeof UpdatePolicy>;

export const UpdatePolicyDictionary = dictionary("UpdatePolicy", UpdatePolicy, {
  check: { codec: "b", doc: "`updates.check` of the network in config.json: whether its source is asked for updates" },
  rebuild: { codec: "b", doc: "`updates.rebuild`: whether an update found is built and booted at once" },
});
