import { z } from "zod";
import type { MessageSpec } from "./message-spec.js";

// One outcome per command of the payload (commands are separated by ';' and ','). i3 adds `input` and
// `errorposition` to parse errors, sway adds `parse_error`.
const CommandOutcome = z.looseObject({
  success: z.boolean(),
  parse_error: z.boolean().optional(),
  error: z.string().optional(),
});
export type CommandOutcome = z.infer<typeof CommandOutcome>;

export const RunCommandReply = z.array(CommandOutcome);
export type RunCommandReply = z.infer<typeof RunCommandReply>;

export const RUN_COMMAND = { name: "RUN_COMMAND", type: 0, replySchema: RunCommandReply } as const satisfies MessageSpec;
