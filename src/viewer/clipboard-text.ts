import { shownText } from "../shared/shown-text.js";

// Text from the guest's clipboard is hostile: it lands in the host's clipboard, where the user may paste it into a
// terminal. An escape character there could end a bracketed paste ("\x1b[201~") and run what follows as typed
// commands, and a carriage return could submit a line; the text keeps its words, tabs and line feeds and loses every
// other control character. The notice shows a short, escaped preview of what was copied.

const PREVIEW_CHARS = 60;
// C0 controls but tab and line feed, DEL and C1 controls (0x9B is CSI on terminals that read 8-bit controls).
const STRIPPED = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

export interface GuestText {
  text: string;
  /** Control characters left out. */
  removed: number;
}

/** The guest's clipboard bytes as text for the host: UTF-8 (invalid sequences become U+FFFD), controls left out. */
export function hostTextOfGuestClipboard(bytes: Uint8Array): GuestText {
  const decoded = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8").replace(/\r\n/g, "\n");
  let removed = 0;
  const text = decoded.replace(STRIPPED, () => {
    removed++;
    return "";
  });
  return { text, removed };
}

/** What the viewer says after copying the guest's clipboard to the host's. */
export function copiedNotice({ text, removed }: GuestText): string {
  const characters = [...text].length;
  const dropped = removed > 0 ? ` (${removed} control characters left out)` : "";
  return `copied ${characters} characters from the guest${dropped}: “${shownText(text, PREVIEW_CHARS)}”`;
}
