import { describe, expect, it } from "vitest";
import {
  MAX_ARGUMENT_CODE_POINTS,
  UnsafeCommandArgumentError,
  escapeMarkupText,
  exactRegex,
  quoteArgument,
  type UnsafeArgumentReason,
} from "../../src/sway/command-syntax.js";
import { addMark, criteria, focusWorkspace, moveToWorkspace, setTitleFormat, titleFormatWithPrefix } from "../../src/sway/commands.js";

function rejection(build: () => unknown): UnsafeArgumentReason | undefined {
  try {
    build();
  } catch (error) {
    if (error instanceof UnsafeCommandArgumentError) return error.reason;
    throw error;
  }
  return undefined;
}

/** What i3's parser makes of a double-quoted string: \" and \\ unescaped (commands_parser.c parse_string). */
function i3Unquote(quoted: string): string {
  expect(quoted.startsWith('"') && quoted.endsWith('"')).toBe(true);
  return quoted.slice(1, -1).replace(/\\(["\\])/g, "$1");
}

/** What sway makes of a quoted argument: the quotes go, every backslash stays. */
function swayUnquote(quoted: string): string {
  const quote = quoted[0];
  expect(quote === '"' || quote === "'").toBe(true);
  expect(quoted.endsWith(quote ?? "")).toBe(true);
  const inner = quoted.slice(1, -1);
  expect(inner.includes(quote ?? "")).toBe(false);
  return inner;
}

/** True when `text` has a ';' or ',' outside any quotes, counting backslash escapes as sway and i3 do. */
function splitsOutsideQuotes(text: string): boolean {
  let quote: string | undefined;
  let escaped = false;
  for (const character of text) {
    if (escaped) escaped = false;
    else if (character === "\\") escaped = true;
    else if (quote !== undefined) quote = character === quote ? undefined : quote;
    else if (character === '"' || character === "'") quote = character;
    else if (character === ";" || character === ",") return true;
  }
  return quote !== undefined;
}

const HOSTILE_NAMES = [
  'x"; exec touch /tmp/pwned; "',
  "x'; exec touch /tmp/pwned; '",
  "a, kill",
  "a; kill",
  "[con_id=1] kill",
  "]\\\"[",
  "back\\\\slash\\\\",
  "ünïcödé 😀 名前",
  "  spaced  out  ",
  "%title %app_id",
];

describe("quoteArgument for i3", () => {
  it.each(HOSTILE_NAMES)("round-trips %j through i3's unquoting, as one argument", (name) => {
    const quoted = quoteArgument(name, "i3");
    expect(i3Unquote(quoted)).toBe(name);
    expect(splitsOutsideQuotes(`workspace ${quoted}`)).toBe(false);
  });

  it("expresses a string with both quote kinds and a trailing backslash", () => {
    const name = `it's "quoted" \\`;
    expect(i3Unquote(quoteArgument(name, "i3"))).toBe(name);
  });

  it("leaves $ alone: i3 expands variables only in its config file", () => {
    expect(quoteArgument("$mod", "i3")).toBe('"$mod"');
  });
});

describe("quoteArgument for sway", () => {
  const swayExpressible = HOSTILE_NAMES.filter((name) => !(name.includes('"') && name.includes("'")));

  it.each(swayExpressible)("round-trips %j through sway's unquoting, as one argument", (name) => {
    const quoted = quoteArgument(name, "sway");
    expect(swayUnquote(quoted)).toBe(name);
    expect(splitsOutsideQuotes(`workspace ${quoted}`)).toBe(false);
  });

  it("uses single quotes for a string with double quotes", () => {
    expect(quoteArgument('say "hi"', "sway")).toBe(`'say "hi"'`);
  });

  it.each<[string, UnsafeArgumentReason]>([
    [`it's "both"`, "both-quote-kinds"],
    ["$mod", "dollar-sign"],
    ["price: 5$", "dollar-sign"],
    ["ends in \\", "trailing-backslash"],
    ["ends in \\\\\\", "trailing-backslash"],
  ])("rejects %j (%s): sway cannot express it exactly", (name, reason) => {
    expect(rejection(() => quoteArgument(name, "sway"))).toBe(reason);
  });

  it("accepts an even run of trailing backslashes", () => {
    expect(quoteArgument("a\\\\", "sway")).toBe('"a\\\\"');
  });
});

describe("rejections common to both WMs", () => {
  it.each<[string, string, UnsafeArgumentReason]>([
    ["empty", "", "empty"],
    ["newline", "a\nb", "control-character"],
    ["carriage return", "a\rb", "control-character"],
    ["NUL", "a\0b", "control-character"],
    ["tab", "a\tb", "control-character"],
    ["escape", "a\u001b[31mb", "control-character"],
    ["C1 control", "a\u0085b", "control-character"],
    ["line separator", "a\u2028b", "control-character"],
    ["right-to-left override", "abc\u202edcb", "control-character"],
    ["lone surrogate", "a\ud800b", "control-character"],
    ["10k characters", "x".repeat(10_000), "too-long"],
  ])("rejects %s", (_label, name, reason) => {
    expect(rejection(() => quoteArgument(name, "i3"))).toBe(reason);
    expect(rejection(() => quoteArgument(name, "sway"))).toBe(reason);
  });

  it("accepts the longest allowed name, counted in characters, not UTF-16 units", () => {
    const name = "😀".repeat(MAX_ARGUMENT_CODE_POINTS);
    expect(rejection(() => quoteArgument(name, "sway"))).toBeUndefined();
  });
});

describe("exactRegex", () => {
  const values = ['a.b*c+?(d)[e]{f}|^g$\\h"', "ünï 😀", "x\ny", "%title", " lead"];

  it.each(values)("matches exactly %j and nothing longer or shorter", (value) => {
    const pattern = exactRegex(value);
    // PCRE's \A, \z and \x{…} in JavaScript's dialect: ^, $ (without the m flag) and \u{…}.
    const asJavaScript = new RegExp(pattern.replace(/^\\A/, "^").replace(/\\z$/, "$").replace(/\\x\{/g, "\\u{"), "u");
    expect(asJavaScript.test(value)).toBe(true);
    expect(asJavaScript.test(`${value}x`)).toBe(false);
    expect(asJavaScript.test(`x${value}`)).toBe(false);
    expect(asJavaScript.test(`${value}\n`)).toBe(false);
  });

  it("contains no quote, no $, and no backslash that i3 or sway would unescape", () => {
    const pattern = exactRegex('"\\$\'');
    expect(pattern).not.toMatch(/["'$]/);
    expect(pattern).not.toMatch(/\\["\\]/);
    expect(pattern).toBe("\\A\\x{22}\\x{5c}\\x{24}\\x{27}\\z");
  });
});

describe("criteria", () => {
  it("builds ids as numbers and strings as exact regexes", () => {
    expect(criteria({ conId: 12, appId: "org.foo" }, "sway")).toBe('[con_id=12 app_id="\\Aorg\\x{2e}foo\\z"]');
    expect(criteria({ windowClass: "Xmessage", x11WindowId: 8388656 }, "i3")).toBe('[id=8388656 class="\\AXmessage\\z"]');
  });

  it.each([-1, 1.5, Number.NaN, 2 ** 60])("rejects %s as an id", (id) => {
    expect(rejection(() => criteria({ conId: id }, "i3"))).toBe("not-an-id");
  });

  it("rejects sway-only criteria on i3, and empty criteria", () => {
    expect(rejection(() => criteria({ pid: 42 }, "i3"))).toBe("unsupported-criterion");
    expect(rejection(() => criteria({ appId: "x" }, "i3"))).toBe("unsupported-criterion");
    expect(rejection(() => criteria({}, "sway"))).toBe("empty");
  });

  it("keeps a hostile value inside its quotes", () => {
    const built = criteria({ title: '"] kill; [' }, "sway");
    expect(built).toBe('[title="\\A\\x{22}\\x{5d}\\x{20}kill\\x{3b}\\x{20}\\x{5b}\\z"]');
    expect(splitsOutsideQuotes(built)).toBe(false);
  });
});

describe("command builders", () => {
  it("focuses a workspace without auto back-and-forth", () => {
    expect(focusWorkspace("a, kill", "i3")).toBe('workspace --no-auto-back-and-forth "a, kill"');
    expect(focusWorkspace('x"; exec touch /tmp/pwned; "', "sway")).toBe(`workspace --no-auto-back-and-forth 'x"; exec touch /tmp/pwned; "'`);
  });

  it.each(["next", "PREV", "back_and_forth", "current", "number", "--no-auto-back-and-forth", "__i3_scratch"])(
    "rejects the workspace name %j, which a WM reads as a keyword",
    (name) => {
      expect(rejection(() => focusWorkspace(name, "sway"))).toBe("reserved-word");
      expect(rejection(() => moveToWorkspace({ conId: 1 }, name, "i3"))).toBe("reserved-word");
    },
  );

  it("accepts names that only start like a keyword", () => {
    expect(focusWorkspace("number 5", "sway")).toBe('workspace --no-auto-back-and-forth "number 5"');
    expect(focusWorkspace("next door", "i3")).toBe('workspace --no-auto-back-and-forth "next door"');
  });

  it("moves a container to a workspace", () => {
    expect(moveToWorkspace({ conId: 7 }, "home; kill", "sway")).toBe('[con_id=7] move --no-auto-back-and-forth container to workspace "home; kill"');
  });

  it("adds a mark, refusing one that sway would read as a flag", () => {
    expect(addMark({ conId: 7 }, "clan:home", "i3")).toBe('[con_id=7] mark --add "clan:home"');
    expect(rejection(() => addMark({ conId: 7 }, "--toggle", "sway"))).toBe("reserved-word");
  });
});

describe("title format", () => {
  it("escapes markup, placeholders, $, quotes and backslashes in the label", () => {
    expect(escapeMarkupText(`<b>&"%title" $mod \\ it's`)).toBe("&#60;b&#62;&#38;&#34;&#37;title&#34; &#36;mod &#92; it&#39;s");
  });

  it("draws the label in the network's colours before the window's own title", () => {
    expect(titleFormatWithPrefix({ label: "home", background: "#CC2200", foreground: "#ffffff" })).toBe(
      "<span background='#cc2200' foreground='#ffffff'> [home] </span> %title",
    );
  });

  it("quotes the whole format as one argument on both WMs, whatever the label", () => {
    const prefix = { label: `it's "evil" %app_id $x \\`, background: "#000000", foreground: "#ffffff" };
    for (const dialect of ["sway", "i3"] as const) {
      const command = setTitleFormat({ conId: 3 }, prefix, dialect);
      expect(command.startsWith('[con_id=3] title_format "<span ')).toBe(true);
      expect(splitsOutsideQuotes(command)).toBe(false);
    }
  });

  it("rejects a colour that is not #rrggbb", () => {
    expect(rejection(() => titleFormatWithPrefix({ label: "x", background: "red'><b", foreground: "#ffffff" }))).toBe("not-a-colour");
  });
});
