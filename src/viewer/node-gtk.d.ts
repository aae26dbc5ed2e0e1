// node-gtk generates its bindings from GObject introspection at run time and ships no types: the viewer's few
// uses of GLib, Gio, Gdk and Gtk go through this loosely typed handle, and the values they hand back are checked
// where they enter the viewer's own typed code.
declare module "node-gtk" {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  type Namespace = any;
  const gi: {
    require(namespace: string, version?: string): Namespace;
    startLoop(): void;
  };
  export default gi;
}
