import { ClanError } from "../shared/errors.js";

// Where QEMU's PulseAudio backend sends a VM's sound (vm.json "audio": "host"): the desktop's PulseAudio, or
// PipeWire's pulse server. Given to QEMU explicitly because without server= QEMU 7.2 insists on finding
// $XDG_RUNTIME_DIR/pulse/pid, which PipeWire does not write.

/** PULSE_SERVER as the session set it, else the user's socket in XDG_RUNTIME_DIR, else none (QEMU looks itself). */
export function pulseAudioServer(env: NodeJS.ProcessEnv): string | undefined {
  const server = env["PULSE_SERVER"] || (env["XDG_RUNTIME_DIR"] ? `unix:${env["XDG_RUNTIME_DIR"]}/pulse/native` : undefined);
  if (server !== undefined && /[,\0\n]/.test(server)) {
    throw new ClanError("InvalidArgument", `PULSE_SERVER or XDG_RUNTIME_DIR has a ',' or control character, which QEMU's -audiodev cannot take: ${JSON.stringify(server)}`);
  }
  return server;
}
