import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadGeneration } from "../../src/vmd/generation.js";
import { readVmSpec } from "../../src/shared/vm-spec.js";

// The generation contract (docs/generation.md) on real directories: what is accepted, what the defaults are,
// and that every refusal names the file and the field so a Nix author can fix it.

let root: string;
let count = 0;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), "clan-generation-"));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

async function generationDir(files: { vm?: unknown; kernelParams?: string; initrd?: boolean } = {}): Promise<string> {
  const dir = join(root, `gen-${++count}`);
  await mkdir(dir);
  await writeFile(join(dir, "kernel"), "kernel image");
  if (files.initrd !== false) await writeFile(join(dir, "initrd"), "initrd image");
  await writeFile(join(dir, "kernel-params"), files.kernelParams ?? "console=ttyS0 init=/init\n");
  await writeFile(join(dir, "vm.json"), JSON.stringify(files.vm ?? {}));
  return dir;
}

async function vmJson(content: unknown): Promise<string> {
  return join(await generationDir({ vm: content }), "vm.json");
}

describe("readVmSpec", () => {
  it("applies every default to an empty object", async () => {
    expect(await readVmSpec(await vmJson({}))).toEqual({
      memoryMiB: 512,
      cores: 1,
      display: "none",
      waypipe: { ports: 4 },
      audio: "none",
      stateDiskMiB: 1024,
      shares: [],
      network: { mode: "user", forwards: [] },
      readiness: "control-port",
      readyTimeoutSeconds: 120,
    });
  });

  it("fills defaults inside nested objects", async () => {
    const spec = await readVmSpec(await vmJson({ shares: [{ tag: "docs", source: "/home/u/docs" }], network: { mode: "none" } }));
    expect(spec.shares).toEqual([{ tag: "docs", source: "/home/u/docs", readOnly: false }]);
    expect(spec.network).toEqual({ mode: "none", forwards: [] });
  });

  it.each([
    { vm: { memoryMiB: "lots" }, field: "memoryMiB" },
    { vm: { memoryMiB: 32 }, field: "memoryMiB" },
    { vm: { memoryMiB: 512.5 }, field: "memoryMiB" },
    { vm: { cores: 0 }, field: "cores" },
    { vm: { display: "vnc" }, field: "display" },
    { vm: { waypipe: { ports: 17 } }, field: "waypipe.ports" },
    { vm: { stateDiskMiB: -1 }, field: "stateDiskMiB" },
    { vm: { shares: [{ tag: "my docs", source: "/docs" }] }, field: "shares.0.tag" },
    { vm: { shares: [{ tag: "docs", source: "docs" }] }, field: "shares.0.source" },
    { vm: { shares: [{ tag: "docs", source: "/docs,readonly=off" }] }, field: "shares.0.source" },
    { vm: { shares: [{ tag: "docs", source: "/docs", mode: "rw" }] }, field: "shares.0" },
    { vm: { network: { mode: "tap" } }, field: "network.mode" },
    { vm: { network: { forwards: [{ hostPort: 0, guestPort: 22 }] } }, field: "network.forwards.0.hostPort" },
    { vm: { network: { forwards: [{ hostPort: 2222, guestPort: 65536 }] } }, field: "network.forwards.0.guestPort" },
    { vm: { readiness: "ssh" }, field: "readiness" },
    { vm: { readyTimeoutSeconds: 0 }, field: "readyTimeoutSeconds" },
    { vm: { sourceRevision: "r".repeat(129) }, field: "sourceRevision" },
    { vm: { colour: "red" }, field: "(top level)" },
    { vm: [], field: "(top level)" },
  ])("names the file and field $field for $vm", async ({ vm, field }) => {
    const file = await vmJson(vm);
    await expect(readVmSpec(file)).rejects.toMatchObject({
      code: "InvalidGeneration",
      message: expect.stringMatching(new RegExp(`^${file}: field ${field.replace(/[().]/g, "\\$&")}: `)),
    });
  });

  it("names the file when it is not JSON", async () => {
    const dir = await generationDir();
    await writeFile(join(dir, "vm.json"), "{ memoryMiB: 512 }");
    await expect(readVmSpec(join(dir, "vm.json"))).rejects.toMatchObject({
      code: "InvalidGeneration",
      message: expect.stringMatching(new RegExp(`^${dir}/vm\\.json: .*JSON`)),
    });
  });

  it("names the file when it is missing", async () => {
    const file = join(root, "nowhere", "vm.json");
    await expect(readVmSpec(file)).rejects.toMatchObject({ code: "InvalidGeneration", message: `${file}: cannot be read` });
  });
});

describe("loadGeneration", () => {
  it("reads a generation through a profile link and reports both paths", async () => {
    const dir = await generationDir({ vm: { memoryMiB: 256 }, kernelParams: "  console=ttyS0 clan.generation=g1 \n" });
    const link = join(root, `alpha-${count}-link`);
    await symlink(dir, link);
    const generation = await loadGeneration(link);
    expect(generation).toMatchObject({
      path: link,
      resolvedPath: dir,
      kernel: join(dir, "kernel"),
      initrd: join(dir, "initrd"),
      kernelParams: "console=ttyS0 clan.generation=g1",
    });
    expect(generation.vm.memoryMiB).toBe(256);
  });

  it("refuses a directory that does not exist", async () => {
    const missing = join(root, "no-such-generation");
    await expect(loadGeneration(missing)).rejects.toMatchObject({ code: "InvalidGeneration", message: `generation ${missing} does not exist` });
  });

  it("refuses a generation without an initrd and names the file", async () => {
    const dir = await generationDir({ initrd: false });
    await expect(loadGeneration(dir)).rejects.toMatchObject({
      code: "InvalidGeneration",
      message: `generation is missing its initrd: ${dir}/initrd`,
    });
  });

  it("refuses kernel-params that span several lines", async () => {
    const dir = await generationDir({ kernelParams: "console=ttyS0\ninit=/evil\n" });
    await expect(loadGeneration(dir)).rejects.toMatchObject({
      code: "InvalidGeneration",
      message: `${dir}/kernel-params: kernel-params must be one line`,
    });
  });

  it("accepts kernel-params of 4096 characters and refuses longer ones", async () => {
    const longest = `a=${"x".repeat(4094)}`;
    expect((await loadGeneration(await generationDir({ kernelParams: `${longest}\n` }))).kernelParams).toBe(longest);
    const dir = await generationDir({ kernelParams: `${longest}x` });
    await expect(loadGeneration(dir)).rejects.toMatchObject({
      code: "InvalidGeneration",
      message: `${dir}/kernel-params: kernel-params is longer than 4096 characters`,
    });
  });

  it("refuses a generation without kernel-params", async () => {
    const dir = await generationDir();
    await rm(join(dir, "kernel-params"));
    await expect(loadGeneration(dir)).rejects.toMatchObject({
      code: "InvalidGeneration",
      message: `generation is missing kernel-params: ${dir}/kernel-params`,
    });
  });
});
