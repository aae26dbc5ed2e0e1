import { z } from "zod";
import type { MessageSpec } from "./message-spec.js";

// sway adds `variant: "sway"`; i3 has no such field. Both report their own version numbers.
export const VersionReply = z.looseObject({
  major: z.number(),
  minor: z.number(),
  patch: z.number(),
  human_readable: z.string(),
  loaded_config_file_name: z.string(),
  variant: z.string().optional(),
});
export type VersionReply = z.infer<typeof VersionReply>;

export const GET_VERSION = { name: "GET_VERSION", type: 7, replySchema: VersionReply } as const satisfies MessageSpec;
