import { z } from "zod";

// How a VM's windows reach the desktop: the one list every schema that names a display uses (vm.json, the
// session config's overrides, configs.json, the VM status, clan-vmd's adoption record).

const DISPLAY_KINDS = ["none", "spice", "waypipe", "dbus"] as const;
export const DisplayKind = z.enum(DISPLAY_KINDS);
export type DisplayKind = z.infer<typeof DisplayKind>;
