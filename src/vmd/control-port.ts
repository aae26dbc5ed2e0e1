import { z } from "zod";

// Messages on the virtio-serial control port (name org.clan.control.0) between the guest's VM controller and
// clan-vmd. The guest is untrusted: lines are size-limited by JsonLineConnection and every field is bounded here.

export const CONTROL_PORT_NAME = "org.clan.control.0";
export const GUEST_AGENT_PORT_NAME = "org.qemu.guest_agent.0";
export const CONTROL_MAX_LINE = 64 * 1024;

export const GuestMessage = z.discriminatedUnion("type", [
  z.object({ type: z.literal("ready"), generation: z.string().max(256) }).strict(),
  z.object({ type: z.literal("pong") }).strict(),
]);
export type GuestMessage = z.infer<typeof GuestMessage>;
