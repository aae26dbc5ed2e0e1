import { defineConfig } from "vitest/config";

// Three projects: fast unit tests; end-to-end tests that drive real QEMU, sway, i3 and dbus-daemon; and the trixie
// lane, the tests that scripts/trixie/run.sh runs again inside a Debian 13 root, where the newer GNOME Shell, QEMU,
// sway and Nix make them test what Debian 12 cannot (docs/testing.md).
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
      {
        test: {
          name: "trixie",
          include: [
            "test/gnome-extension/gnome-shell.e2e.test.ts",
            "test/nix/flake.test.ts",
            "test/nix/flake-check.test.ts",
            "test/vmd/qemu-dbus-display.e2e.test.ts",
            "test/sway/security-context.e2e.test.ts",
            "test/viewer/clan-viewer-shared.e2e.test.ts",
            "test/session/wayland-filter.e2e.test.ts",
          ],
          poolOptions: { forks: { singleFork: true } },
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
    ],
  },
});
