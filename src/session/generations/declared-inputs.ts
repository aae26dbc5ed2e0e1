import { loadExeca } from "../../shared/lazy-execa.js";
import { z } from "zod";
import { ClanError } from "../../shared/errors.js";
import { JOIN_INPUT_KINDS, referenceKinds, type FlakeInput, type InputKind, type LockedInputs } from "../../shared/flake-source/locked-inputs.js";
import { nixError } from "../../shared/flake-source/source-fetch.js";
import { shownText } from "../../shared/shown-text.js";

// The inputs a network's flake.nix declares. Nix fetches, while building, every declared input that flake.lock
// does not lock as declared — before it could refuse to change the lock file — and then that input's own inputs:
// a `path:` input copies files of this computer into the store, a `git+ssh:` one runs ssh. So a build first
// reads what flake.nix declares and treats each input that flake.lock does not lock exactly so as unlocked.
// Reading `inputs` evaluates the flake's Nix (Nix itself does the same before building), in restricted mode:
// no file outside the source, no URI, no environment, no search path beyond the source itself.

const EVAL_TIMEOUT_MS = 60_000;
const SOURCE_ENTRY = "clansource";
const DECLARED_EXPRESSION = `let
  describe = input: (removeAttrs input [ "inputs" ]) // { inputs = builtins.mapAttrs (_: describe) (input.inputs or { }); };
in builtins.mapAttrs (_: describe) ((import <${SOURCE_ENTRY}/flake.nix>).inputs or { })`;

interface DeclaredInput {
  follows?: string;
  url?: string;
  type?: string;
  inputs: Record<string, DeclaredInput>;
  [attribute: string]: unknown;
}
const DeclaredInput: z.ZodType<DeclaredInput> = z.lazy(() =>
  z
    .object({ follows: z.string().max(256).optional(), url: z.string().max(2048).optional(), type: z.string().max(64).optional(), inputs: z.record(z.string().max(128), DeclaredInput) })
    .catchall(z.union([z.string().max(2048), z.boolean(), z.number()])),
);
const DeclaredInputs = z.record(z.string().max(128), DeclaredInput);

/** The inputs `flake.nix` in the fetched source declares, with the overrides it declares for inputs of inputs. */
export async function readDeclaredInputs(sourcePath: string): Promise<Record<string, DeclaredInput>> {
  const result = await (await loadExeca())(
    "nix",
    [
      ...["--extra-experimental-features", "nix-command flakes", "eval", "--json", "--impure"],
      ...["--option", "restrict-eval", "true", "--option", "allowed-uris", "", "--option", "allow-import-from-derivation", "false"],
      ...["-I", `${SOURCE_ENTRY}=${sourcePath}`, "--expr", DECLARED_EXPRESSION],
    ],
    { reject: false, timeout: EVAL_TIMEOUT_MS, env: { NIX_PATH: "" } },
  );
  if (result.timedOut) throw new ClanError("BuildFailed", `reading the inputs flake.nix declares took longer than ${EVAL_TIMEOUT_MS / 1000} s`);
  if (result.exitCode !== 0) throw new ClanError("BuildFailed", `cannot read the inputs flake.nix declares: ${nixError(result.stderr, result.exitCode)}`);
  const parsed = DeclaredInputs.safeParse(JSON.parse(result.stdout));
  if (!parsed.success) throw new ClanError("BuildFailed", `flake.nix declares inputs Nix would not accept: ${shownText(parsed.error.issues[0]?.message ?? "")}`);
  return parsed.data;
}

/** Declared inputs (and overrides of inputs of inputs) that flake.lock does not lock as declared: Nix would fetch them. */
export function unlockedDeclaredInputs(declared: Record<string, DeclaredInput>, locked: LockedInputs, prefix = ""): FlakeInput[] {
  const found: FlakeInput[] = [];
  for (const [name, input] of Object.entries(declared)) {
    const path = prefix === "" ? name : `${prefix}/${name}`;
    if (input.follows === undefined) {
      const reference = declaredReference(input);
      const original = locked.originals.get(path);
      if (reference === undefined || original === undefined || !sameReference(reference, original)) {
        const source = input.url ?? (reference ? JSON.stringify(reference) : "an input without a url");
        const kinds = new Set<InputKind>(["unlocked", ...(reference ? referenceKinds({ type: String(reference.type), url: reference.url }) : [])]);
        found.push({ path, source, kinds: JOIN_INPUT_KINDS.filter((kind) => kinds.has(kind)) });
      }
    }
    found.push(...unlockedDeclaredInputs(input.inputs, locked, path));
  }
  return found;
}

/** The attributes Nix records as an input's `original` for what flake.nix declares; undefined for forms not read here. */
function declaredReference(input: DeclaredInput): Record<string, unknown> | undefined {
  const { follows: _follows, url, inputs: _inputs, flake: _flake, ...attributes } = input;
  if (url === undefined) return typeof attributes.type === "string" ? attributes : undefined;
  const [base, query = ""] = url.split("?", 2) as [string, string?];
  const parameters = Object.fromEntries(new URLSearchParams(query));
  const hosted = /^(github|gitlab|sourcehut):([^/]+)\/([^/]+)(?:\/(.+))?$/.exec(base);
  if (hosted) {
    const [, type, owner, repo, refOrRev] = hosted;
    const pinned = refOrRev === undefined ? {} : /^[0-9a-f]{40}$/.test(refOrRev) ? { rev: refOrRev } : { ref: refOrRev };
    return { type, owner, repo, ...pinned, ...parameters };
  }
  const git = /^git\+([a-z]+:\/\/.*)$/.exec(base);
  if (git) return { type: "git", url: git[1], ...parameters };
  const path = /^path:(.+)$/.exec(base);
  if (path) return { type: "path", path: path[1], ...parameters };
  const tarball = /^(?:tarball\+)?(https?:\/\/.*\.(?:zip|tar|tgz|tar\.gz|tar\.xz|tar\.bz2|tar\.zst))$/.exec(base);
  if (tarball) return { type: "tarball", url: tarball[1], ...parameters };
  if (/^[a-zA-Z][a-zA-Z0-9_-]*$/.test(base)) return { type: "indirect", id: base, ...parameters };
  return undefined;
}

function sameReference(declared: Record<string, unknown>, original: Record<string, unknown>): boolean {
  const keys = new Set([...Object.keys(declared), ...Object.keys(original)]);
  return [...keys].every((key) => String(declared[key]) === String(original[key]));
}
