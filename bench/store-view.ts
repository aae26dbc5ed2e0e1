import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { isAlive, spawnDetached } from "../src/vmd/qemu-process.js";
import { generationClosure, HOLDER_READY_LINE, prepareStoreView, storeViewHolderArguments, storeViewVirtiofsdArguments } from "../src/vmd/store-view.js";
import { type Benchmark, withGoal } from "./benchmark.js";
import { buildClosureGeneration } from "./closure-generation.js";
import { registerCleanup } from "./cleanup.js";
import { median } from "./stats.js";

// What serving a VM its own closure adds to a start: nix-store's closure query, laying out the view's template,
// the holder's namespace binding every path (these three only on a generation's first start), and virtiofsd
// joining that namespace until it listens on its socket (every start; prepared-store-views.ts). Measured on a
// generation built by the real Nix whose closure has the size of a NixOS system's (closure-generation.ts). Needs
// root for the Nix store.

const CLOSURE_PATHS = 1500;
const VIRTIOFSD = process.env.CLAN_VMD_VIRTIOFSD ?? "/usr/lib/qemu/virtiofsd";

export const storeViewBenchmark: Benchmark = {
  name: "store-view",
  summary: `closure query + view + virtiofsd listening, for a ${CLOSURE_PATHS}-path closure`,
  async run({ rounds }) {
    const root = await mkdtemp(join(tmpdir(), "clan-bench-store-view-"));
    // The views go where clan-vmd puts them: a runtime directory, which is a tmpfs (/run/user/<uid>).
    const runtime = await mkdtemp(join(process.env.XDG_RUNTIME_DIR ?? "/dev/shm", "clan-bench-store-view-"));
    const cleanUp = registerCleanup(async () => {
      await rm(root, { recursive: true, force: true });
      await rm(runtime, { recursive: true, force: true });
    });
    try {
      const generation = await buildClosureGeneration(root, "clan-bench-store-view", CLOSURE_PATHS);
      const samples = { queryMs: [] as number[], layoutMs: [] as number[], mountMs: [] as number[], virtiofsdMs: [] as number[], firstMs: [] as number[] };
      // One unmeasured round warms the page cache and Nix's database.
      for (let round = 0; round <= rounds; round++) {
        const viewDir = join(runtime, `view-${round}`);
        const socket = join(runtime, `fs-${round}.sock`);
        const startedAt = performance.now();
        const closure = await generationClosure(generation);
        const queriedAt = performance.now();
        const fstab = prepareStoreView(closure, viewDir);
        const laidOutAt = performance.now();
        const holder = await startHolder(fstab, viewDir);
        const mountedAt = performance.now();
        let servedAt: number;
        try {
          const pid = spawnDetached("nsenter", storeViewVirtiofsdArguments(holder.pid!, VIRTIOFSD, socket), join(runtime, `virtiofsd-${round}.out`));
          try {
            await waitForSocket(socket, pid);
          } finally {
            process.kill(pid, "SIGKILL");
          }
          servedAt = performance.now();
        } finally {
          holder.kill("SIGKILL");
        }
        if (closure.length !== CLOSURE_PATHS + 1) throw new Error(`the closure has ${closure.length} paths, expected ${CLOSURE_PATHS + 1}`);
        if (round === 0) continue;
        samples.queryMs.push(queriedAt - startedAt);
        samples.layoutMs.push(laidOutAt - queriedAt);
        samples.mountMs.push(mountedAt - laidOutAt);
        samples.virtiofsdMs.push(servedAt - mountedAt);
        samples.firstMs.push(servedAt - startedAt);
      }
      return {
        parameters: { rounds, closurePaths: CLOSURE_PATHS + 1 },
        measurements: [
          { metric: "closure query median", value: median(samples.queryMs), unit: "ms" },
          { metric: "view layout median", value: median(samples.layoutMs), unit: "ms" },
          { metric: "holder's binds median", value: median(samples.mountMs), unit: "ms" },
          { metric: "virtiofsd in the view median", value: median(samples.virtiofsdMs), unit: "ms" },
          withGoal({ metric: "first start's total median", value: median(samples.firstMs), unit: "ms" }, 500),
          // On a shared machine the fastest round is the closest to the cost without others' load.
          { metric: "first start's total fastest", value: Math.min(...samples.firstMs), unit: "ms" },
        ],
        samples,
      };
    } finally {
      await cleanUp();
    }
  },
};

async function waitForSocket(socket: string, pid: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!(await stat(socket).catch(() => undefined))) {
    if (!isAlive(pid)) throw new Error(`virtiofsd exited before it created ${socket}`);
    if (Date.now() > deadline) throw new Error(`virtiofsd did not create ${socket} within 10 s`);
    await sleep(2);
  }
}

/** The view's holder, as clan-vmd starts it (prepared-store-views.ts), once it says the view is mounted. */
async function startHolder(fstab: string, templateDir: string): Promise<ChildProcess> {
  const holder = spawn("unshare", storeViewHolderArguments(fstab), { cwd: templateDir, stdio: ["pipe", "pipe", "inherit"] });
  await new Promise<void>((resolve, reject) => {
    holder.stdout.on("data", (chunk: Buffer) => chunk.toString().startsWith(HOLDER_READY_LINE) && resolve());
    holder.on("exit", () => reject(new Error("the store view's holder exited before it mounted the view")));
  });
  return holder;
}
