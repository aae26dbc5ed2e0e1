import { EventEmitter } from "node:events";
import type { NetworkApplications, UpdatePolicy } from "../shared/applications-api.js";
import { errorMessage } from "../shared/errors.js";
import { terminalSafe } from "../shared/untrusted-text.js";
import { ApplicationsForm, type ApplicationsFormView, type FieldValue } from "./applications-form.js";

// The state of the selected network's Applications and Settings sections, without GTK: its configs.json as a form,
// **Save and rebuild** (write through clan-sessiond over the revision read, then start the rebuild job, whose
// progress the detail shows), its update policy and the notifications setting. A save or setting refused by
// clan-sessiond is shown with its reason; the form is read again after a save, so the next one starts from the
// file as written.

/** What these sections need of clan-sessiond (SessionClient has it). */
export interface ApplicationsSession {
  networkApplications(name: string): Promise<NetworkApplications>;
  setNetworkApplications(name: string, configs: string, expectedRevision: string): Promise<{ revision: string; diff: string[] }>;
  startRebuild(name: string): Promise<string>;
  updatePolicy(name: string): Promise<UpdatePolicy>;
  setUpdatePolicy(name: string, policy: UpdatePolicy): Promise<void>;
  notifications(): Promise<boolean>;
  setNotifications(enabled: boolean): Promise<void>;
}

export interface ApplicationsView {
  network: string | undefined;
  /** undefined while it is read. */
  form: ApplicationsFormView | undefined;
  /** What the last save did ("Saved: 1 change; rebuild started") or why it was refused. */
  outcome: string;
  saving: boolean;
  policy: UpdatePolicy | undefined;
  notifications: boolean | undefined;
  /** Why the last settings change was refused, "" when it was not. */
  settingsProblem: string;
}

const MAX_SHOWN = 400;

export class ApplicationsModel extends EventEmitter<{ changed: [] }> {
  private network: string | undefined;
  private form: ApplicationsForm | undefined;
  private outcome = "";
  private saving = false;
  private policy: UpdatePolicy | undefined;
  private notifications: boolean | undefined;
  private settingsProblem = "";
  /** Counts selections: a reply for an earlier one is dropped. */
  private selection = 0;

  constructor(private readonly session: () => ApplicationsSession | undefined) {
    super();
  }

  view(): ApplicationsView {
    return {
      network: this.network,
      form: this.form?.view(),
      outcome: this.outcome,
      saving: this.saving,
      policy: this.policy,
      notifications: this.notifications,
      settingsProblem: this.settingsProblem,
    };
  }

  /** The network shown changed (or clan-sessiond came back): read its sections again. */
  select(network: string | undefined): void {
    this.network = network;
    this.form = undefined;
    this.policy = undefined;
    this.outcome = "";
    this.settingsProblem = "";
    const selection = ++this.selection;
    this.changed();
    if (network !== undefined) void this.load(network, selection);
  }

  set(key: string, value: FieldValue): void {
    this.form?.set(key, value);
    this.changed();
  }

  /** Writes the draft over the revision read, then starts the rebuild; the result (or refusal) is the outcome. */
  async saveAndRebuild(): Promise<void> {
    const { network, form } = this;
    const session = this.session();
    if (!network || !form || !session || this.saving) return;
    this.saving = true;
    this.changed();
    const selection = this.selection;
    try {
      const written = await session.setNetworkApplications(network, form.text(), form.read.revision);
      const jobId = await session.startRebuild(network);
      this.outcome = `Saved (${written.diff.length} ${written.diff.length === 1 ? "change" : "changes"}); rebuild started (job ${jobId})`;
    } catch (error) {
      this.outcome = `Not saved: ${errorMessage(error)}`;
    } finally {
      this.saving = false;
    }
    if (selection === this.selection) await this.reloadForm(network, selection);
    this.changed();
  }

  async setPolicy(policy: UpdatePolicy): Promise<void> {
    const { network } = this;
    const session = this.session();
    if (!network || !session) return;
    await this.settle(async () => {
      await session.setUpdatePolicy(network, policy);
      this.policy = await session.updatePolicy(network);
    });
    this.changed();
  }

  async setNotifications(enabled: boolean): Promise<void> {
    const session = this.session();
    if (!session) return;
    await this.settle(async () => {
      await session.setNotifications(enabled);
      this.notifications = await session.notifications();
    });
    this.changed();
  }

  private async settle(change: () => Promise<void>): Promise<void> {
    try {
      await change();
      this.settingsProblem = "";
    } catch (error) {
      this.settingsProblem = terminalSafe(errorMessage(error), { maxChars: MAX_SHOWN });
    }
  }

  private async load(network: string, selection: number): Promise<void> {
    const session = this.session();
    if (!session) return;
    await this.reloadForm(network, selection);
    await this.settle(async () => {
      const [policy, notifications] = await Promise.all([session.updatePolicy(network), session.notifications()]);
      if (selection !== this.selection) return;
      this.policy = policy;
      this.notifications = notifications;
    });
    this.changed();
  }

  private async reloadForm(network: string, selection: number): Promise<void> {
    const session = this.session();
    if (!session) return;
    try {
      const read = await session.networkApplications(network);
      if (selection === this.selection) this.form = new ApplicationsForm(read);
    } catch (error) {
      if (selection === this.selection) {
        this.form = new ApplicationsForm({ configs: "", revision: "", entry: network, editable: false, reason: `cannot read configs.json: ${errorMessage(error)}`, path: "" });
      }
    }
    this.changed();
  }

  private changed(): void {
    this.emit("changed");
  }
}
