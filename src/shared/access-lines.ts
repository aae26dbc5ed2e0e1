// What a generation asks of the host and what the user's grants allow, as text: a module of its own, without zod,
// because `clanctl status` prints it and must start fast (docs/benchmarks.md).

export interface ShareAccess {
  tag: string;
  path: string;
  readWrite: boolean;
  granted: boolean;
}

export interface ForwardAccess {
  hostPort: number;
  guestPort: number;
}

export interface AccessDescription {
  shares: ShareAccess[];
  forwards: ForwardAccess[];
  networkMode: string;
}

/** One line per item, for terminals: "share docs: /home/u/Sync (read-only, granted)", "forward: host 8080 → guest 80". */
export function accessLines(access: AccessDescription): string[] {
  return [
    `network: ${access.networkMode}`,
    ...access.shares.map(
      (share) => `share ${share.tag}: ${share.path} (${share.readWrite ? "read-write" : "read-only"}, ${share.granted ? "granted" : "NOT granted: the VM will not start"})`,
    ),
    ...access.forwards.map((forward) => `forward: host port ${forward.hostPort} → guest port ${forward.guestPort}`),
  ];
}
