// What a change of configs.json changes, field by field, as lines a person reads before saving ("the diff"):
// the manager shows it before **Save and rebuild**, and clan-sessiond returns the same lines for what it wrote.
// Lists are compared as whole values; values are JSON, cut to a length a line can show.

const VALUE_CHARS = 120;

export function configsDiff(before: unknown, after: unknown): string[] {
  const old = flatten(before);
  const next = flatten(after);
  const lines: string[] = [];
  for (const [path, value] of next) {
    const previous = old.get(path);
    if (previous === undefined) lines.push(`+ ${path}: ${value}`);
    else if (previous !== value) lines.push(`~ ${path}: ${previous} → ${value}`);
  }
  for (const [path, value] of old) if (!next.has(path)) lines.push(`- ${path}: ${value}`);
  return lines;
}

/** Leaf path ("default.applications.syncthing.enable") → its value as shortened JSON. */
function flatten(value: unknown, prefix = "", into = new Map<string, string>()): Map<string, string> {
  if (typeof value === "object" && value !== null && !Array.isArray(value)) {
    for (const [key, child] of Object.entries(value)) flatten(child, prefix === "" ? key : `${prefix}.${key}`, into);
    return into;
  }
  if (prefix !== "") into.set(prefix, shortened(JSON.stringify(value) ?? "null"));
  return into;
}

function shortened(text: string): string {
  return text.length > VALUE_CHARS ? `${text.slice(0, VALUE_CHARS)}…` : text;
}
