import { z } from "zod";
import type { MessageSpec } from "./message-spec.js";

export const GetMarksReply = z.array(z.string());
export type GetMarksReply = z.infer<typeof GetMarksReply>;

export const GET_MARKS = { name: "GET_MARKS", type: 5, replySchema: GetMarksReply } as const satisfies MessageSpec;
