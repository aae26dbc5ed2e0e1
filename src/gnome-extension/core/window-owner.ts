// Which network a window belongs to, by the process that opened it — never by its title or app id, which the
// guest chooses. clan-sessiond publishes the pid of each network's host display process (ViewerPids). A SPICE
// viewer's windows carry that pid itself; a waypipe client forks a child per forwarded app session, and the
// child opens the windows, so a window also belongs to a network when an ancestor of its process is the
// published one.

/**
 * How many generations above a window's process are searched. waypipe's windows are one level down; the bound
 * keeps a window that belongs to no network from costing a /proc read for each of its ancestors up to init.
 */
export const MAX_ANCESTOR_DEPTH = 4;

/**
 * The parent pid in the text of /proc/<pid>/stat: "pid (comm) state ppid …". comm is the process's own name,
 * which may contain spaces and ")" — so the fields are counted from the last ")".
 */
export function parentPidFromStat(stat: string): number | undefined {
  const endOfName = stat.lastIndexOf(")");
  if (endOfName < 0) return undefined;
  const [, parent] = stat.slice(endOfName + 1).trim().split(" ");
  if (parent === undefined || !/^[0-9]+$/.test(parent)) return undefined;
  const pid = Number(parent);
  return pid > 0 ? pid : undefined;
}

/**
 * The network whose host display process is `pid` or one of its first MAX_ANCESTOR_DEPTH ancestors.
 * `parentOf` answers undefined for a process that no longer exists.
 */
export function networkOfProcess(
  pid: number,
  viewerPids: Readonly<Record<string, number>>,
  parentOf: (pid: number) => number | undefined,
): string | undefined {
  const networkOfPid = new Map<number, string>();
  for (const [network, viewerPid] of Object.entries(viewerPids)) if (viewerPid > 0) networkOfPid.set(viewerPid, network);
  // No published pid, nothing to find: spare every window's /proc reads.
  if (networkOfPid.size === 0) return undefined;
  let current = pid;
  for (let depth = 0; depth <= MAX_ANCESTOR_DEPTH; depth++) {
    // pid 1 (init) and 0 (the kernel) are never a viewer and end every chain.
    if (!(current > 1)) return undefined;
    const network = networkOfPid.get(current);
    if (network !== undefined) return network;
    const parent = parentOf(current);
    if (parent === undefined) return undefined;
    current = parent;
  }
  return undefined;
}
