import { describe, expect, it } from "vitest";
import { pulseAudioServer } from "../../src/vmd/audio-server.js";

describe("pulseAudioServer", () => {
  it("takes PULSE_SERVER as the session set it, else the user's socket, else leaves it to QEMU", () => {
    expect(pulseAudioServer({ PULSE_SERVER: "unix:/run/pulse/native", XDG_RUNTIME_DIR: "/run/user/1000" })).toBe("unix:/run/pulse/native");
    expect(pulseAudioServer({ XDG_RUNTIME_DIR: "/run/user/1000" })).toBe("unix:/run/user/1000/pulse/native");
    expect(pulseAudioServer({})).toBeUndefined();
  });

  it("refuses a value that would smuggle another option into QEMU's -audiodev", () => {
    expect(() => pulseAudioServer({ PULSE_SERVER: "unix:/x,id=other" })).toThrow(/PULSE_SERVER or XDG_RUNTIME_DIR has a ','/);
  });
});
