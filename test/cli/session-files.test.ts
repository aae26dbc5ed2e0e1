import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { PACKAGED_COMMANDS, sessionFiles } from "../../src/cli/session-files.js";
import { REPO } from "../helpers/daemons.js";

describe("session files", () => {
  it("share/ holds exactly what the generator writes for /usr (run `npm run schemas` after changing it)", async () => {
    for (const file of sessionFiles(PACKAGED_COMMANDS)) {
      expect(await readFile(`${REPO}/share/${file.path}`, "utf8"), file.path).toBe(file.text);
    }
  });

  it("each daemon is a D-Bus-activated user unit of its own bus name", () => {
    const byPath = new Map(sessionFiles({ vmd: ["/opt/node", "/opt/clan/bin/clan-vmd.js"], sessiond: ["/x/sessiond"] }).map((f) => [f.path, f.text]));
    expect(byPath.get("systemd/user/clan-vmd.service")).toMatch(/^BusName=org\.clan\.Desktop\.VMs1$/m);
    expect(byPath.get("systemd/user/clan-vmd.service")).toMatch(/^ExecStart=\/opt\/node \/opt\/clan\/bin\/clan-vmd\.js$/m);
    expect(byPath.get("dbus-1/services/org.clan.Desktop.Session1.service")).toMatch(/^SystemdService=clan-sessiond\.service$/m);
    expect(byPath.get("dbus-1/services/org.clan.Desktop.Session1.service")).toMatch(/^Exec=\/x\/sessiond$/m);
  });

  it("refuses a path that the Exec line would split or unquote", () => {
    expect(() => sessionFiles({ vmd: ["/home/a b/node"], sessiond: ["/x"] })).toThrow(/cannot write "\/home\/a b\/node" into an Exec line/);
    expect(() => sessionFiles({ vmd: ["/x"], sessiond: ['/x/"$HOME"'] })).toThrow(/Exec line/);
  });
});
