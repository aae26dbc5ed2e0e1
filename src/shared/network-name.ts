import { z } from "zod";

// A network name is used in file paths, socket paths, D-Bus object paths and Nix profile names, so it is an
// identifier, never free text. Free text for display lives in a network's label.
export const NETWORK_NAME_PATTERN = /^[a-z][a-z0-9-]{0,30}$/;

export const NetworkName = z
  .string()
  .regex(NETWORK_NAME_PATTERN, "a network name is 1–31 characters: a lowercase letter, then lowercase letters, digits or '-'");
export type NetworkName = z.infer<typeof NetworkName>;

export function describeNameProblem(name: string): string | undefined {
  const result = NetworkName.safeParse(name);
  return result.success ? undefined : `invalid network name ${JSON.stringify(name.slice(0, 64))}: ${result.error.issues[0]?.message}`;
}
