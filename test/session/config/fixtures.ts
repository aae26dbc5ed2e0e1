import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A network as a user would write it, with only the required fields. */
export function networkInput(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { workspaces: ["1:family"], colour: "#3366ff", source: { profile: "/nix/var/nix/profiles/clan/family" }, ...overrides };
}

/** config.json text with the given networks. */
export function configText(networks: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
  return `${JSON.stringify({ networks, ...extra }, null, 2)}\n`;
}

export interface TempDir {
  readonly path: string;
  file(name: string): string;
  write(name: string, text: string): Promise<string>;
  remove(): Promise<void>;
}

export async function makeTempDir(): Promise<TempDir> {
  const path = await mkdtemp(join(tmpdir(), "clan-config-test-"));
  return {
    path,
    file: (name) => join(path, name),
    async write(name, text) {
      const file = join(path, name);
      await writeFile(file, text);
      return file;
    },
    remove: () => rm(path, { recursive: true, force: true }),
  };
}
