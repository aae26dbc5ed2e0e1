// Every bus name, object path and interface name the processes share, in one place; the members of each
// interface are declared in contracts/. Interface names carry a version suffix; an incompatible change adds a
// "2" interface beside the "1".

export const VMD_BUS_NAME = "org.clan.Desktop.VMs1";
export const VMD_MANAGER_PATH = "/org/clan/Desktop/VMs1";
export const VMD_MANAGER_INTERFACE = "org.clan.Desktop.VMs1.Manager";
export const VMD_VM_INTERFACE = "org.clan.Desktop.VMs1.VM";

export const SESSION_BUS_NAME = "org.clan.Desktop.Session1";
export const SESSION_MANAGER_PATH = "/org/clan/Desktop/Session1";
export const SESSION_MANAGER_INTERFACE = "org.clan.Desktop.Session1.Manager";

/** D-Bus object path elements allow only [A-Za-z0-9_]; network names also allow '-'. */
export function networkObjectPath(root: string, network: string): string {
  return `${root}/networks/${network.replaceAll("-", "_2d")}`;
}
