import { ClanError } from "../../shared/errors.js";
import type { NetworkApplications, UpdatePolicy } from "../../shared/applications-api.js";
import { shownText } from "../../shared/shown-text.js";
import { editConfigFile } from "../config/config-edits.js";
import type { NetworkConfig } from "../config/schema.js";
import type { ConfigWatcher } from "../config/watcher.js";
import { NetworkConfigsFiles, type NetworkConfigsWrite } from "./network-configs-file.js";
import { createNetwork, type NewNetworkRequest } from "./new-network.js";

// What clan-sessiond's Applications and Settings methods do: a network's configs.json (network-configs-file.ts),
// "New network" (new-network.ts), and the user's settings in config.json — each written to the file and then
// re-read at once, so that the change is in force when the call returns rather than when the watcher notices.

export interface ApplicationsServiceOptions {
  config: Pick<ConfigWatcher, "current" | "file" | "reload">;
  networksDir: string;
  templateDir: string;
  /** The network's Nix profile: a network not editable here shows the configs.json its current generation was built from. */
  profileOf: (network: string, config: NetworkConfig) => string;
}

export class ApplicationsService {
  private readonly files: NetworkConfigsFiles;

  constructor(private readonly options: ApplicationsServiceOptions) {
    this.files = new NetworkConfigsFiles({
      networksDir: options.networksDir,
      configOf: (network) => options.config.current.networks[network],
      profileOf: options.profileOf,
    });
  }

  applications(network: string): Promise<NetworkApplications> {
    return this.files.read(network).then(({ text, ...rest }) => ({ configs: text, ...rest }));
  }

  setApplications(network: string, text: string, expectedRevision: string): Promise<NetworkConfigsWrite> {
    return this.files.write(network, text, expectedRevision);
  }

  async createNetwork(request: NewNetworkRequest): Promise<string> {
    const { config, networksDir, templateDir } = this.options;
    const directory = await createNetwork(request, { networksDir, templateDir, configFile: config.file, current: () => config.current });
    await this.applyNow();
    return directory;
  }

  updatePolicy(network: string): UpdatePolicy {
    return { ...this.network(network).updates };
  }

  async setUpdatePolicy(network: string, policy: UpdatePolicy): Promise<void> {
    this.network(network);
    await editConfigFile(this.options.config.file, [{ path: ["networks", network, "updates"], value: { check: policy.check, rebuild: policy.rebuild } }]);
    await this.applyNow();
  }

  async setNotifications(enabled: boolean): Promise<void> {
    await editConfigFile(this.options.config.file, [{ path: ["notifications"], value: enabled }]);
    await this.applyNow();
  }

  get notifications(): boolean {
    return this.options.config.current.notifications;
  }

  private network(name: string) {
    const network = this.options.config.current.networks[name];
    if (!network) throw new ClanError("UnknownNetwork", `no network named ${shownText(name, 64)} in the config`);
    return network;
  }

  private async applyNow(): Promise<void> {
    const result = await this.options.config.reload();
    if (!result.ok) throw new ClanError("InvalidState", `config.json was written but does not load: ${result.error.message}`);
  }
}
