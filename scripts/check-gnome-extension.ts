import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

// Checks the built extension beyond what tsc sees (`node --import tsx scripts/check-gnome-extension.ts`, after
// `npm run build:gnome`; test/gnome-extension/build-output.e2e.test.ts runs the same checks):
//  - the GNOME 45+ build imports only modules that exist in GNOME Shell 45 and later: each gi:// and
//    resource:/// specifier must be in SHELL_45_MODULES (curated: present since 45, not renamed or removed up to
//    48) AND declared by the @girs types the code was type-checked against, and every relative import must be a
//    file of the extension;
//  - the GNOME 43–44 build contains no ES import/export at all (GNOME 43 would refuse to load it).

const REPO = fileURLToPath(new URL("../", import.meta.url));

export const SHELL_45_MODULES = new Set([
  "gi://Adw",
  "gi://Clutter",
  "gi://Gio",
  "gi://GLib",
  "gi://GObject",
  "gi://Gtk",
  "gi://Meta",
  "gi://Shell",
  "gi://St",
  "resource:///org/gnome/shell/extensions/extension.js",
  "resource:///org/gnome/shell/ui/main.js",
  "resource:///org/gnome/shell/ui/panelMenu.js",
  "resource:///org/gnome/shell/ui/popupMenu.js",
  "resource:///org/gnome/shell/ui/messageTray.js",
  "resource:///org/gnome/Shell/Extensions/js/extensions/prefs.js",
]);

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** Every `declare module "…"` of gi:// and resource:/// specifiers in the installed @girs packages. */
export function declaredModules(girs = join(REPO, "node_modules/@girs")): Set<string> {
  const declared = new Set<string>();
  const pattern = /declare module\s+["']((?:gi|resource):\/\/[^"']+)["']/g;
  for (const file of filesUnder(girs).filter((path) => path.endsWith(".d.ts"))) {
    for (const match of readFileSync(file, "utf8").matchAll(pattern)) declared.add(match[1]!);
  }
  return declared;
}

interface ModuleReference {
  file: string;
  specifier: string;
}

function moduleReferences(file: string): { imports: ModuleReference[]; esSyntax: string[] } {
  const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.ES2022, true, ts.ScriptKind.JS);
  const imports: ModuleReference[] = [];
  const esSyntax: string[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
      imports.push({ file, specifier: node.moduleSpecifier.text });
    }
    if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteral(node.arguments[0])) {
      imports.push({ file, specifier: node.arguments[0].text });
    }
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node) || ts.isExportAssignment(node)) esSyntax.push(node.getText().slice(0, 80));
    if (ts.canHaveModifiers(node) && (ts.getModifiers(node) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword)) esSyntax.push(node.getText().slice(0, 80));
    ts.forEachChild(node, visit);
  };
  visit(source);
  return { imports, esSyntax };
}

/** Problems of the GNOME 45+ build in `root` (an unpacked extension); empty when it is fine. */
export function checkEsmBuild(root: string, declared = declaredModules()): string[] {
  const problems: string[] = [];
  for (const file of filesUnder(root).filter((path) => path.endsWith(".js"))) {
    for (const { specifier } of moduleReferences(file).imports) {
      const where = relative(root, file);
      if (specifier.startsWith("./") || specifier.startsWith("../")) {
        if (!existsSync(resolve(dirname(file), specifier))) problems.push(`${where}: ${specifier} is not a file of the extension`);
      } else if (!SHELL_45_MODULES.has(specifier)) {
        problems.push(`${where}: ${specifier} is not a module known to exist in GNOME Shell 45+ (add it to SHELL_45_MODULES once checked)`);
      } else if (!declared.has(specifier)) {
        problems.push(`${where}: ${specifier} is not declared by the @girs types`);
      }
    }
  }
  return problems;
}

/** Problems of the GNOME 43–44 build: any ES module syntax, or a gi:// / resource:/// specifier. */
export function checkLegacyBuild(root: string): string[] {
  return filesUnder(root)
    .filter((path) => path.endsWith(".js"))
    .flatMap((file) => moduleReferences(file).esSyntax.map((text) => `${relative(root, file)}: ES module syntax in a legacy module: ${text}`));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const out = join(REPO, "dist/gnome-extension");
  execFileSync(join(REPO, "node_modules/.bin/tsc"), ["--noEmit", "-p", join(REPO, "src/gnome-extension/tsconfig.json")], { stdio: "inherit" });
  const problems = [
    ...checkEsmBuild(join(out, "esm/clan-desktop@clan.lol")).map((p) => `esm/${p}`),
    ...checkLegacyBuild(join(out, "legacy/clan-desktop@clan.lol")).map((p) => `legacy/${p}`),
  ];
  for (const problem of problems) console.error(problem);
  console.log(problems.length === 0 ? "GNOME extension builds: OK" : `${problems.length} problems`);
  process.exit(problems.length === 0 ? 0 : 1);
}
