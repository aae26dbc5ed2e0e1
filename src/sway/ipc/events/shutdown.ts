import { z } from "zod";
import type { EventSpec } from "./event-spec.js";

// i3 sends "restart" or "exit"; sway only ever sends "exit" (its restart is a new process with a new socket).
export const ShutdownEvent = z.looseObject({ change: z.string() });
export type ShutdownEvent = z.infer<typeof ShutdownEvent>;

export const SHUTDOWN_EVENT = { name: "shutdown", type: 6, schema: ShutdownEvent } as const satisfies EventSpec;
