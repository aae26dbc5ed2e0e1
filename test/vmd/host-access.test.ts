import { describe, expect, it } from "vitest";
import type { Generation } from "../../src/vmd/generation.js";
import { VmSpec } from "../../src/shared/vm-spec.js";
import { enforceResourceCap } from "../../src/vmd/host-access.js";

// The host-relative cap: a generation by itself gets at most a share of the host's memory and its cores; the
// user's override may give more, up to the whole host.

const host = { memoryMiB: 8000, cores: 4, generationMemoryPercent: 50 };
const generation = (vm: Record<string, unknown>): Generation => ({
  path: "/gen",
  resolvedPath: "/gen",
  kernel: "/gen/kernel",
  initrd: "/gen/initrd",
  kernelParams: "",
  vm: VmSpec.parse(vm),
});

describe("enforceResourceCap", () => {
  it("accepts a generation within the cap", () => {
    expect(() => enforceResourceCap("family", generation({ memoryMiB: 4000, cores: 4 }), {}, host)).not.toThrow();
  });

  it("refuses memory above the share of the host, naming the field, the cap and the config field that raises it", () => {
    expect(() => enforceResourceCap("family", generation({ memoryMiB: 4001 }), {}, host)).toThrow(
      "/gen/vm.json: field memoryMiB: the generation asks for 4001 MiB, more than a network may take by itself (50 % of this host's 8000 MiB = 4000 MiB); to allow it, set networks.family.vm.memoryMiB in config.json (at most 8000 MiB)",
    );
  });

  it("refuses more cores than the host has", () => {
    expect(() => enforceResourceCap("family", generation({ cores: 5 }), {}, host)).toThrow(/field cores: the generation asks for 5 cores, more than this host's 4/);
  });

  it("the user's override replaces the generation's ask and may use the whole host, not more", () => {
    expect(() => enforceResourceCap("family", generation({ memoryMiB: 60000, cores: 64 }), { memoryMiB: 8000, cores: 4 }, host)).not.toThrow();
    expect(() => enforceResourceCap("family", generation({}), { memoryMiB: 8001 }, host)).toThrow(/override memoryMiB: 8001 MiB is more than this host's 8000 MiB/);
    expect(() => enforceResourceCap("family", generation({}), { cores: 5 }, host)).toThrow(/override cores: 5 is more than this host's 4 cores/);
  });
});
