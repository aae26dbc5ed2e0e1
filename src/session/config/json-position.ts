// Where JSON text stops being valid. JSON.parse on Node 20 does not report a position for every error (not for an
// unexpected token), and a user editing config.json by hand needs a line and column for each. This scanner runs
// only after JSON.parse has failed, to find the offset; it is iterative so deep nesting cannot overflow the stack.

const STRING = /"(?:[^"\\\u0000-\u001F]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;
const STRING_PREFIX = /"(?:[^"\\\u0000-\u001F]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*/y;
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const LITERAL = /true|false|null/y;
const WHITESPACE = /[ \t\n\r]*/y;

type Expectation = "value" | "valueOrClose" | "key" | "keyOrClose" | "colon" | "commaOrClose";

/** The offset of the first character that makes `text` invalid JSON (text.length when it ends too early), or
 *  undefined when it is valid. */
export function locateJsonSyntaxError(text: string): number | undefined {
  const open: ("}" | "]")[] = [];
  let offset = 0;
  let expect: Expectation = "value";
  const match = (pattern: RegExp): number | undefined => {
    pattern.lastIndex = offset;
    return pattern.test(text) ? pattern.lastIndex : undefined;
  };
  for (;;) {
    offset = match(WHITESPACE) ?? offset;
    if (expect === "commaOrClose" && open.length === 0) return offset < text.length ? offset : undefined;
    if (offset >= text.length) return offset;
    const char = text[offset];
    if (expect === "colon") {
      if (char !== ":") return offset;
      offset++;
      expect = "value";
    } else if (expect === "commaOrClose") {
      if (char === ",") expect = open.at(-1) === "}" ? "key" : "value";
      else if (char === open.at(-1)) open.pop();
      else return offset;
      offset++;
    } else if ((expect === "keyOrClose" && char === "}") || (expect === "valueOrClose" && char === "]")) {
      open.pop();
      offset++;
      expect = "commaOrClose";
    } else if (expect === "key" || expect === "keyOrClose") {
      const end = match(STRING);
      if (end === undefined) return char === '"' ? (match(STRING_PREFIX) ?? offset) : offset;
      offset = end;
      expect = "colon";
    } else if (char === "{" || char === "[") {
      open.push(char === "{" ? "}" : "]");
      offset++;
      expect = char === "{" ? "keyOrClose" : "valueOrClose";
    } else {
      const end = char === '"' ? match(STRING) : (match(NUMBER) ?? match(LITERAL));
      if (end === undefined) return char === '"' ? (match(STRING_PREFIX) ?? offset) : offset;
      offset = end;
      expect = "commaOrClose";
    }
  }
}
