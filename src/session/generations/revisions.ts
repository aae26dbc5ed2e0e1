import { readFile, rename, writeFile } from "node:fs/promises";
import { z } from "zod";

// Which source revision each generation was built from, beside the profile (`<profile>.revisions.json`),
// keyed by the generation's store path: store paths never change, while nix-env may delete generations. The
// source's own store path is kept too (absent in files of older versions), so that what a generation was built
// from can be read again without fetching it; the garbage collector may still have taken it.

const SourceStorePath = z.string().regex(/^\/nix\/store\/[0-9a-z]{32}-source$/);
const Revisions = z.record(
  z.string(),
  z.object({ revision: z.string(), lastModified: z.number(), builtAt: z.number(), sourcePath: SourceStorePath.optional() }).strict(),
);
export type Revisions = z.infer<typeof Revisions>;
export type RevisionRecord = Revisions[string];

function fileOf(profile: string): string {
  return `${profile}.revisions.json`;
}

export async function readRevisions(profile: string): Promise<Revisions> {
  let text: string;
  try {
    text = await readFile(fileOf(profile), "utf8");
  } catch {
    // No file yet: no generation was built by clan-desktop (a hand-made profile), which is not an error.
    return {};
  }
  const parsed = Revisions.safeParse(JSON.parse(text));
  return parsed.success ? parsed.data : {};
}

export async function recordRevision(profile: string, storePath: string, record: RevisionRecord): Promise<void> {
  const revisions = { ...(await readRevisions(profile)), [storePath]: record };
  const temporary = `${fileOf(profile)}.tmp`;
  await writeFile(temporary, `${JSON.stringify(revisions, null, 2)}\n`);
  await rename(temporary, fileOf(profile));
}
