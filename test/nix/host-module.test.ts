import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { nixEval, repositoryRoot, testDirectory } from "./nix.js";
import { hasNixpkgsLib, nixpkgsLibSkipReason, unpackNixpkgsLib } from "./real-lib.js";

// nixosModules.host and nix/package.nix evaluated with nixpkgs 25.05's real lib.evalModules, with the named stand-ins
// of test/nix/nixos-stand-ins for the rest of NixOS and for pkgs (whose buildNpmPackage and importNpmLock record
// their arguments). Building the package needs nixpkgs itself.

interface UserService {
  wantedBy: string[];
  environment: Record<string, string>;
  serviceConfig: Record<string, unknown>;
}

interface Built {
  name: string;
  command: string | null;
  text: string | null;
  path: string | null;
}

interface LockedModule {
  version: string;
  integrity?: string;
  resolved?: string;
}

interface Host {
  failedAssertions: string[];
  userServices: { "clan-vmd": UserService; "clan-sessiond": UserService };
  dbusPackages: Built[];
  etc: Record<string, Built>;
  mime: Record<string, string>;
  systemPackages: string[];
  package: {
    name: string;
    arguments: Record<string, unknown> & { postInstall: string; postBuild: string };
    source: string;
    npmConfigHook: string;
    npmDeps: { packageLock: { packages: Record<string, LockedModule> } };
  };
}

let nixpkgsLib: { lib: string; remove: () => Promise<void> };

beforeAll(async () => {
  if (hasNixpkgsLib) nixpkgsLib = await unpackNixpkgsLib();
});

afterAll(async () => {
  await nixpkgsLib?.remove();
});

async function evaluateHost(host: Record<string, unknown>) {
  return nixEval({ file: join(testDirectory, "evaluate-host.nix") }, { nixpkgsLib: nixpkgsLib.lib, host: JSON.stringify(host) });
}

const REGISTRY = "https://npm-registry.invalid";

async function host(settings: Record<string, unknown> = {}): Promise<Host> {
  const result = await evaluateHost({ enable: true, npmRegistry: `${REGISTRY}/`, ...settings });
  if (result.exitCode !== 0) throw new Error(`evaluating the host module failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as Host;
}

/** key=value lines of a desktop-entry style file (D-Bus service files, .desktop files). */
function entries(text: string): Record<string, string> {
  return Object.fromEntries(text.split("\n").flatMap((line) => (/^([A-Za-z]+)=(.*)$/.exec(line) ? [line.split(/=(.*)/s).slice(0, 2)] : [])));
}

describe.skipIf(!hasNixpkgsLib)(`nixosModules.host with nixpkgs 25.05's lib${nixpkgsLibSkipReason}`, () => {
  it("runs both daemons as D-Bus activated user units, clan-sessiond with the graphical session", async () => {
    const system = await host();
    expect(system.failedAssertions).toEqual([]);
    const { "clan-vmd": vmd, "clan-sessiond": sessiond } = system.userServices;
    expect(vmd.serviceConfig).toMatchObject({ Type: "dbus", BusName: "org.clan.Desktop.VMs1", KillMode: "process" });
    expect(vmd.serviceConfig["ExecStart"]).toMatch(/-clan-desktop-0\.1\.0\/bin\/clan-vmd$/);
    expect(vmd.environment["CLAN_VMD_QEMU"]).toMatch(/-qemu\/bin\/qemu-system-x86_64$/);
    expect(sessiond.serviceConfig).toMatchObject({ Type: "dbus", BusName: "org.clan.Desktop.Session1" });
    expect(sessiond.wantedBy).toEqual(["graphical-session.target"]);

    // The activation files name the same buses and units as the ones the project ships (share/dbus-1/services).
    const activation = system.dbusPackages.map((file) => ({ path: file.path, ...entries(file.text ?? "") }));
    for (const bus of ["org.clan.Desktop.VMs1", "org.clan.Desktop.Session1"]) {
      const shipped = entries(readFileSync(join(repositoryRoot, `share/dbus-1/services/${bus}.service`), "utf8"));
      expect(activation).toContainEqual(expect.objectContaining({
        path: `share/dbus-1/services/${bus}.service`, Name: bus, SystemdService: shipped["SystemdService"],
      }));
    }
  });

  it("makes its link handler the default for clan:// and nix:// links, and the package installs it", async () => {
    const system = await host();
    expect(system.mime).toEqual({ "x-scheme-handler/clan": "clan-desktop-join.desktop", "x-scheme-handler/nix": "clan-desktop-join.desktop" });
    expect(system.systemPackages).toContain("clan-desktop-0.1.0");
    const desktopFile = entries(readFileSync(join(repositoryRoot, "share/applications/clan-desktop-join.desktop"), "utf8"));
    expect(desktopFile["MimeType"]).toBe("x-scheme-handler/clan;x-scheme-handler/nix;");
    expect(desktopFile["Exec"]).toBe("clan-manager --join %u");
    const install = system.package.arguments.postInstall;
    expect(install).toContain("share/applications/clan-desktop-join.desktop $out/share/applications/clan-desktop-join.desktop");
    expect(install).toContain('--replace-fail "Exec=clan-manager " "Exec=$out/bin/clan-manager "');
    const managerFile = entries(readFileSync(join(repositoryRoot, "share/applications/clan-manager.desktop"), "utf8"));
    expect(managerFile["Exec"]).toBe("clan-manager");
    expect(install).toContain("share/applications/clan-manager.desktop $out/share/applications/clan-manager.desktop");
    expect(install).toContain('--replace-fail "Exec=clan-manager" "Exec=$out/bin/clan-manager"');
    expect(install).toContain("dist/gnome-extension/esm/*/metadata.json");
    expect(install).toContain("$out/share/gnome-shell/extensions/");
    expect(system.package.arguments.postBuild).toContain("npm run build:gnome");
    // The bar's relay finds socat wherever the window manager starts it.
    expect(install).toMatch(/wrapProgram \$out\/bin\/clan-bar-relay --prefix PATH : \S+-socat\/bin:\S+-coreutils\/bin/);
    // node-gtk is built from source in the sandbox, against the build's own node, and bin/ finds GTK's typelibs.
    expect(system.package.arguments.postBuild).toMatch(/npm rebuild node-gtk --ignore-scripts=false --build-from-source --nodedir=/);
    expect(system.package.arguments["nativeBuildInputs"]).toEqual(
      ["glib", "pkg-config", "python3", "gobject-introspection", "wrapGAppsHook4", "makeWrapper"].map((name) => expect.stringMatching(new RegExp(`-${name}$`))),
    );
    expect(system.package.arguments["buildInputs"]).toEqual(
      ["glib", "cairo", "gobject-introspection", "gtk4", "libadwaita"].map((name) => expect.stringMatching(new RegExp(`-${name}$`))),
    );
  });

  it("starts clan-sessiond from sway and i3 in the same exec as the environment import", async () => {
    const system = await host();
    for (const wm of ["sway", "i3"]) {
      const snippet = system.etc[`${wm}/config.d/clan-desktop.conf`]!;
      expect(snippet.command).toMatch(new RegExp(`^cat \\S+-${wm}\\.conf > \\$out\\n`));
      expect(snippet.command).toContain(`/bin/clanctl ${wm}-config --config `);
      const execLines = readFileSync(join(repositoryRoot, `nix/host/${wm}.conf`), "utf8").split("\n").filter((line) => line.startsWith("exec"));
      const socket = wm === "sway" ? "SWAYSOCK" : "I3SOCK";
      expect(execLines).toHaveLength(1);
      expect(execLines[0]).toMatch(new RegExp(`^exec (--no-startup-id )?systemctl --user import-environment ${socket} \\S+ && systemctl --user start clan-sessiond\\.service$`));
    }
  });

  it("checks declared networks with clan-sessiond's loader while the system is built, and points clan-sessiond at them", async () => {
    const networks = { family: { workspaces: ["3:family"], colour: "#e06c75", source: { profile: "/nix/var/nix/profiles/per-user/alice/clan/family" } } };
    const system = await host({ networks });
    const configFile = system.etc["clan-desktop/config.json"]!;
    expect(configFile.command).toMatch(/node \S+-check-config\.mjs \S+-clan-desktop-0\.1\.0\/lib\/node_modules\/clan-desktop \$out/);
    expect(system.userServices["clan-sessiond"].environment["CLAN_DESKTOP_CONFIG"]).toBe("/etc/clan-desktop/config.json");
  });

  it("builds the package from package-lock.json alone: every locked package fetched by its integrity, no dependency hash", async () => {
    const { package: pkg } = await host();
    expect(pkg.name).toBe("clan-desktop-0.1.0");
    expect(Object.keys(pkg.arguments)).not.toContain("npmDepsHash");
    expect(pkg.npmConfigHook).toBe("npm-config-hook");
    const lock = JSON.parse(readFileSync(join(repositoryRoot, "package-lock.json"), "utf8")) as { packages: Record<string, LockedModule> };
    const given = pkg.npmDeps.packageLock.packages;
    expect(Object.keys(given).sort()).toEqual(Object.keys(lock.packages).sort());
    for (const [key, module] of Object.entries(lock.packages)) {
      if (key === "") continue;
      const name = key.slice(key.lastIndexOf("node_modules/") + "node_modules/".length);
      const baseName = name.slice(name.lastIndexOf("/") + 1);
      expect(given[key], key).toEqual({ ...module, resolved: `${REGISTRY}/${name}/-/${baseName}-${module.version}.tgz` });
      expect(module.integrity, key).toMatch(/^sha512-/);
    }
    expect(given["node_modules/@girs/adw-1/node_modules/@girs/gjs"]?.resolved).toMatch(/\/@girs\/gjs\/-\/gjs-[^/]+\.tgz$/);
  });

  it("says where the npm registry must be given when it is not", async () => {
    const result = await evaluateHost({ enable: true });
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain("clan-desktop's package needs npmRegistry");
  });
});
