import { defineConfig } from "vitest/config";

// Two projects: fast unit tests, and end-to-end tests that drive real QEMU, sway, i3 and dbus-daemon.
// End-to-end files run one at a time: the machine has two cores and each test boots real VMs.
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/**/*.test.ts"],
          exclude: ["test/**/*.e2e.test.ts"],
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/**/*.e2e.test.ts"],
          // One fork runs the files one after another. (fileParallelism is a root-only option: vitest ignores it
          // in a project, so on a machine with more cores these files ran side by side.)
          poolOptions: { forks: { singleFork: true } },
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
