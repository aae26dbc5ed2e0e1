import { z } from "zod";
import { VmSpec } from "./vm-spec.js";

// The JSON Schema of a generation's vm.json, generated from the zod schema so the two cannot disagree. It
// describes what a Nix module writes (zod's "input" side): fields with defaults are optional and show them.

export const VM_SCHEMA_ID = "urn:clan-desktop:schema:vm";

export function vmJsonSchema(): Record<string, unknown> {
  const { $schema, ...generated } = z.toJSONSchema(VmSpec, { io: "input", target: "draft-2020-12" });
  return {
    $schema,
    $id: VM_SCHEMA_ID,
    title: "clan-desktop generation vm.json",
    description: "How clan-vmd runs one generation of a network's VM: resources, display, state disk, shares, networking and readiness. See docs/generation.md.",
    ...generated,
  };
}

/** The text of docs/schemas/vm.schema.json. */
export function renderVmJsonSchema(): string {
  return `${JSON.stringify(vmJsonSchema(), null, 2)}\n`;
}
