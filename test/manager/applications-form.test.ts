import { describe, expect, it } from "vitest";
import type { NetworkApplications, UpdatePolicy } from "../../src/shared/applications-api.js";
import { ApplicationsForm, valueText } from "../../src/manager/applications-form.js";
import { ApplicationsModel, type ApplicationsSession } from "../../src/manager/applications-model.js";

// The Applications form and its model without GTK, against a scripted clan-sessiond: what the page shows for a
// file that is editable, read-only or hostile, the draft's diff and problems, and what Save and rebuild calls.

const CONFIGS = {
  home: { system: "x86_64-linux", networkLayer: "none", applications: { syncthing: { enable: true, sharedFolders: ["/shared/docs"] } } },
};

function read(overrides: Partial<NetworkApplications> = {}): NetworkApplications {
  return { configs: JSON.stringify(CONFIGS), revision: "r1", entry: "home", editable: true, reason: "", path: "/n/home/configs.json", ...overrides };
}

function formView(form: ApplicationsForm) {
  const view = form.view();
  if (view.kind !== "form") throw new Error(`expected a form, got ${JSON.stringify(view)}`);
  return view;
}

describe("ApplicationsForm", () => {
  it("shows every field with the file's value or the schema's default, and no changes", () => {
    const view = formView(new ApplicationsForm(read()));
    const values = Object.fromEntries(view.fields.map((field) => [field.key, field.value]));
    expect(values).toMatchObject({ "applications.syncthing.enable": true, "applications.syncthing.sharedFolders": ["/shared/docs"], networkLayer: "none", adminMode: "local" });
    expect(view.diff).toEqual([]);
    expect(view.changed).toBe(false);
  });

  it("turns edits into a diff, and a value Nix would refuse into a problem naming the field", () => {
    const form = new ApplicationsForm(read());
    form.set("applications.syncthing.enable", false);
    form.set("networkLayer", "yggdrasil");
    expect(formView(form).diff).toEqual(['~ home.networkLayer: "none" → "yggdrasil"', "~ home.applications.syncthing.enable: true → false"]);
    form.set("applications.mumbleClient.enable", true);
    expect(formView(form).problems).toEqual(['entry "home", field "applications.mumbleClient.server": is required']);
    form.set("applications.mumbleClient.server", "mumble.example");
    expect(formView(form).problems).toEqual([]);
    expect(JSON.parse(form.text())).toMatchObject({ home: { applications: { mumbleClient: { enable: true, server: "mumble.example" } } } });
  });

  it("shows a joined network's file as read-only fields with their values as text, which set() does not change", () => {
    const joined = { home: { ...CONFIGS.home, adminSshKeys: ["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5 alice@example", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE6 bob@example"] } };
    const form = new ApplicationsForm(read({ configs: JSON.stringify(joined), editable: false, reason: "joined: shown as built in generation 2 (rev abc)" }));
    form.set("applications.syncthing.enable", false);
    const view = form.view();
    if (view.kind !== "read-only") throw new Error(`expected read-only, got ${view.kind}`);
    expect(view.reason).toBe("joined: shown as built in generation 2 (rev abc)");
    const values = Object.fromEntries(view.fields.map((field) => [field.key, valueText(field.value)]));
    expect(values).toMatchObject({
      "applications.syncthing.enable": "yes",
      "applications.syncthing.sharedFolders": "/shared/docs",
      networkLayer: "none",
      adminSshKeys: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5 alice@example, ssh-ed25519 AAAAC3NzaC1lZDI1NTE6 bob@example",
      "applications.mumbleClient.enable": "yes",
    });
    expect(view.fields.length).toBeGreaterThan(5);
    const invalid = new ApplicationsForm(read({ configs: "{", editable: false, reason: "joined" })).view();
    expect(invalid).toEqual({ kind: "read-only", reason: expect.stringMatching(/^joined; \/n\/home\/configs\.json is not JSON/), fields: [] });
  });

  it("shows a read-only network's reason, and a hostile file as its problem, as plain text", () => {
    expect(new ApplicationsForm(read({ configs: "", editable: false, reason: "belongs to\u001b]0;x\u0007 its admins" })).view()).toEqual({
      kind: "read-only",
      reason: "belongs to\\x1b]0;x\\x07 its admins",
      fields: [],
    });
    const deep = `{"home": ${"[".repeat(50_000)}${"]".repeat(50_000)}}`;
    expect(new ApplicationsForm(read({ configs: deep })).view()).toMatchObject({ kind: "unusable", problem: expect.stringContaining("is not valid") });
    const markup = JSON.stringify({ "<b>x</b>": { system: "x86_64-linux" } });
    const unusable = new ApplicationsForm(read({ configs: markup })).view();
    expect(unusable).toMatchObject({ kind: "unusable", problem: expect.stringContaining("invalid network name") });
    expect(new ApplicationsForm(read({ configs: "{" })).view()).toMatchObject({ kind: "unusable", problem: expect.stringContaining("not JSON") });
  });
});

class ScriptedSession implements ApplicationsSession {
  readonly calls: string[] = [];
  file = read();
  policy: UpdatePolicy = { check: true, rebuild: false };
  notificationsOn = true;
  refuseSave = "";

  async networkApplications(): Promise<NetworkApplications> {
    return this.file;
  }
  async setNetworkApplications(name: string, configs: string, expectedRevision: string): Promise<{ revision: string; diff: string[] }> {
    this.calls.push(`save ${name} over ${expectedRevision}`);
    if (this.refuseSave) throw new Error(this.refuseSave);
    this.file = read({ configs, revision: "r2" });
    return { revision: "r2", diff: ["~ x"] };
  }
  async startRebuild(name: string): Promise<string> {
    this.calls.push(`rebuild ${name}`);
    return "job-7";
  }
  async updatePolicy(): Promise<UpdatePolicy> {
    return this.policy;
  }
  async setUpdatePolicy(name: string, policy: UpdatePolicy): Promise<void> {
    this.calls.push(`policy ${name} ${JSON.stringify(policy)}`);
    this.policy = policy;
  }
  async notifications(): Promise<boolean> {
    return this.notificationsOn;
  }
  async setNotifications(enabled: boolean): Promise<void> {
    this.calls.push(`notifications ${enabled}`);
    this.notificationsOn = enabled;
  }
}

async function settled(model: ApplicationsModel, predicate: () => boolean): Promise<void> {
  while (!predicate()) await new Promise<void>((resolve) => model.once("changed", () => resolve()));
}

describe("ApplicationsModel", () => {
  it("saves over the revision read, then starts the rebuild, and reads the file again", async () => {
    const session = new ScriptedSession();
    const model = new ApplicationsModel(() => session);
    model.select("home");
    await settled(model, () => model.view().form !== undefined && model.view().policy !== undefined);
    model.set("applications.syncthing.enable", false);
    await model.saveAndRebuild();
    expect(session.calls).toEqual(["save home over r1", "rebuild home"]);
    expect(model.view().outcome).toBe("Saved (1 change); rebuild started (job job-7)");
    expect(model.view().form).toMatchObject({ kind: "form", changed: false });
  });

  it("shows a refused save and starts no rebuild", async () => {
    const session = new ScriptedSession();
    session.refuseSave = "configs.json not saved: it changed since it was read";
    const model = new ApplicationsModel(() => session);
    model.select("home");
    await settled(model, () => model.view().form !== undefined);
    model.set("networkLayer", "wireguard");
    await model.saveAndRebuild();
    expect(session.calls).toEqual(["save home over r1"]);
    expect(model.view().outcome).toBe("Not saved: configs.json not saved: it changed since it was read");
  });

  it("writes the update policy and notifications through clan-sessiond and shows what it then reports", async () => {
    const session = new ScriptedSession();
    const model = new ApplicationsModel(() => session);
    model.select("home");
    await settled(model, () => model.view().policy !== undefined && model.view().notifications !== undefined);
    await model.setPolicy({ check: false, rebuild: true });
    await model.setNotifications(false);
    expect(session.calls).toEqual(['policy home {"check":false,"rebuild":true}', "notifications false"]);
    expect(model.view()).toMatchObject({ policy: { check: false, rebuild: true }, notifications: false, settingsProblem: "" });
  });
});
