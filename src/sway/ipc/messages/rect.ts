import { z } from "zod";

// The geometry object that workspaces, outputs and tree nodes share.
export const Rect = z.object({ x: z.number(), y: z.number(), width: z.number(), height: z.number() });
export type Rect = z.infer<typeof Rect>;
