// How long ago a VPN peer was last heard from, for `clanctl peers` and `clanctl status`.

export function describeHandshake(lastHandshake: number, now = Date.now()): string {
  if (lastHandshake <= 0) return "no handshake yet";
  const seconds = Math.max(0, Math.round((now - lastHandshake) / 1000));
  if (seconds < 120) return `handshake ${seconds} s ago`;
  if (seconds < 7200) return `handshake ${Math.round(seconds / 60)} min ago`;
  return `handshake ${Math.round(seconds / 3600)} h ago`;
}
