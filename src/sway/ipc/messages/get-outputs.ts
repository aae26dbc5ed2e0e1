import { z } from "zod";
import type { MessageSpec } from "./message-spec.js";
import { Rect } from "./rect.js";

// sway adds make, model, modes, scale, transform…; only the fields both WMs share are typed.
const Output = z.looseObject({
  name: z.string(),
  active: z.boolean(),
  primary: z.boolean(),
  current_workspace: z.string().nullable(),
  rect: Rect,
});
export type Output = z.infer<typeof Output>;

export const GetOutputsReply = z.array(Output);
export type GetOutputsReply = z.infer<typeof GetOutputsReply>;

export const GET_OUTPUTS = { name: "GET_OUTPUTS", type: 3, replySchema: GetOutputsReply } as const satisfies MessageSpec;
