// node-gtk generates its bindings from GObject introspection at run time and ships no types: clan-viewer's and
// clan-manager's uses of GLib, Gio, Gtk and friends go through this loosely typed handle, and the values they
// hand back are checked where they enter the typed code.
declare module "node-gtk" {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  type Namespace = any;
  const gi: {
    require(namespace: string, version?: string): Namespace;
    startLoop(): void;
  };
  export default gi;
}
