import { readFile, rm } from "node:fs/promises";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { networkObjectPath, SESSION_BUS_NAME, SESSION_MANAGER_INTERFACE, SESSION_MANAGER_PATH, VMD_BUS_NAME, VMD_MANAGER_INTERFACE, VMD_MANAGER_PATH, VMD_VM_INTERFACE } from "../../src/shared/dbus-names.js";
import { REPO } from "../helpers/daemons.js";
import { startSessionStack, type SessionStack } from "../helpers/session-stack.js";

// The introspection XML shipped in share/dbus-1/interfaces/ is what busctl, d-feet and bindings in other
// languages are built from: the running daemons, asked by gdbus over a real dbus-daemon, must describe exactly
// the same members with the same signatures.

interface Member {
  kind: string;
  name: string;
  /** "in:s out:a{sv}" — argument names are left out: dbus-next does not publish them. */
  args: string;
}

/** The members of one interface in an introspection document, in a canonical order. */
function membersOf(xml: string, interfaceName: string): Member[] {
  const start = xml.indexOf(`<interface name="${interfaceName}">`);
  if (start < 0) throw new Error(`no interface ${interfaceName} in:\n${xml}`);
  const body = xml.slice(start, xml.indexOf("</interface>", start));
  const members: Member[] = [];
  const pattern = /<(method|signal|property)\s+name="(\w+)"([^>]*?)(\/>|>([\s\S]*?)<\/\1>)/g;
  for (const match of body.matchAll(pattern)) {
    const [, kind, name, attributes, , inner = ""] = match;
    const args = [...inner.matchAll(/<arg\b([^>]*)\/>/g)].map(([, attrs]) => {
      const type = /type="([^"]*)"/.exec(attrs!)?.[1];
      const direction = /direction="(\w+)"/.exec(attrs!)?.[1] ?? (kind === "signal" ? "" : "in");
      return `${direction}:${type}`;
    });
    const propertyType = kind === "property" ? `${/type="([^"]*)"/.exec(attributes!)?.[1]} ${/access="(\w+)"/.exec(attributes!)?.[1]}` : "";
    members.push({ kind: kind!, name: name!, args: [...args, propertyType].filter(Boolean).join(" ") });
  }
  return members.sort((a, b) => `${a.kind} ${a.name}`.localeCompare(`${b.kind} ${b.name}`));
}

describe("the running daemons' introspection", () => {
  let stack: SessionStack;
  const introspect = async (dest: string, path: string) =>
    (await execa("gdbus", ["introspect", "--session", "--dest", dest, "--object-path", path, "--xml"], { env: { ...process.env, DBUS_SESSION_BUS_ADDRESS: stack.env.DBUS_SESSION_BUS_ADDRESS! } })).stdout;
  const shipped = (interfaceName: string) => readFile(`${REPO}/share/dbus-1/interfaces/${interfaceName}.xml`, "utf8");

  beforeAll(async () => {
    stack = await startSessionStack({ config: { networks: {} }, daemonEnv: {} });
  }, 60_000);

  afterAll(async () => {
    await stack?.stop();
  });

  it("clan-vmd's manager equals share/dbus-1/interfaces/org.clan.Desktop.VMs1.Manager.xml", async () => {
    const running = membersOf(await introspect(VMD_BUS_NAME, VMD_MANAGER_PATH), VMD_MANAGER_INTERFACE);
    expect(running.length).toBeGreaterThan(10);
    expect(running).toEqual(membersOf(await shipped(VMD_MANAGER_INTERFACE), VMD_MANAGER_INTERFACE));
  });

  it("clan-vmd's per-VM object equals share/dbus-1/interfaces/org.clan.Desktop.VMs1.VM.xml", async () => {
    // A snapshot of a network with no state disk fails, but makes clan-vmd know the network: its object appears.
    await expect(stack.vms.snapshotState("introspected", `${stack.root}/snapshot.qcow2`, [])).rejects.toMatchObject({ code: "NotFound" });
    const running = membersOf(await introspect(VMD_BUS_NAME, networkObjectPath(VMD_MANAGER_PATH, "introspected")), VMD_VM_INTERFACE);
    expect(running.map((member) => member.name)).toContain("State");
    expect(running).toEqual(membersOf(await shipped(VMD_VM_INTERFACE), VMD_VM_INTERFACE));
    await rm(`${stack.root}/snapshot.qcow2`, { force: true });
  });

  it("clan-sessiond's manager equals share/dbus-1/interfaces/org.clan.Desktop.Session1.Manager.xml", async () => {
    const running = membersOf(await introspect(SESSION_BUS_NAME, SESSION_MANAGER_PATH), SESSION_MANAGER_INTERFACE);
    expect(running.length).toBeGreaterThan(20);
    expect(running).toEqual(membersOf(await shipped(SESSION_MANAGER_INTERFACE), SESSION_MANAGER_INTERFACE));
  });
});
