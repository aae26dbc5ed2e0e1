// Part of `npm run typecheck`: lists every exported value (function, class, constant) of src/ that no other
// module imports — dead code, or a name that should not be exported — and fails when there is one. Imports from tests, benchmarks and scripts count
// (a test may reach a module's helper); an import of a whole module (`import * as`, `export * from`, a dynamic
// `import()`) counts for every export of it. Entry points, which only bin/ and GNOME Shell load, are allowed.
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const REPO = join(dirname(fileURLToPath(import.meta.url)), "..");

/** Modules loaded from outside TypeScript: bin/*.js, GNOME Shell, and prefs.js in its settings dialog. */
const ENTRY_POINTS: Readonly<Record<string, readonly string[]>> = {
  "src/cli/main.ts": ["main"],
  "src/session/main.ts": ["main"],
  "src/session/heap-size.ts": ["keepHeapSmall"],
  "src/vmd/main.ts": ["main"],
  "src/viewer/main.ts": ["main"],
  "src/manager/main.ts": ["main"],
  "src/shared/run-main.ts": ["runMain"],
  "src/gnome-extension/extension.ts": ["*"],
  "src/gnome-extension/prefs.ts": ["*"],
};

/** One program over everything: tsconfig.check.json's files and the GNOME extension, which it leaves out only
 *  because GJS types differ (its own tsconfig checks those); symbols resolve the same either way. */
function wholeProgram(): ts.Program {
  const read = (path: string) => {
    const config = ts.getParsedCommandLineOfConfigFile(join(REPO, path), {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined });
    if (!config) throw new Error(`cannot read ${path}`);
    return config;
  };
  const check = read("tsconfig.check.json");
  const gnome = read("src/gnome-extension/tsconfig.json");
  return ts.createProgram({ rootNames: [...check.fileNames, ...gnome.fileNames], options: check.options });
}

interface Findings {
  exported: Map<ts.Symbol, { file: string; name: string }>;
  used: Set<ts.Symbol>;
  wholeModules: Set<string>;
}

function resolved(checker: ts.TypeChecker, symbol: ts.Symbol | undefined): ts.Symbol | undefined {
  if (!symbol) return undefined;
  return symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
}

function moduleFileOf(checker: ts.TypeChecker, specifier: ts.Expression): string | undefined {
  const symbol = checker.getSymbolAtLocation(specifier);
  const declaration = symbol?.valueDeclaration ?? symbol?.declarations?.[0];
  return declaration && ts.isSourceFile(declaration) ? declaration.fileName : undefined;
}

function scan(program: ts.Program, findings: Findings): void {
  const checker = program.getTypeChecker();
  const ownFiles = program.getSourceFiles().filter((file) => !file.isDeclarationFile && !file.fileName.includes("/node_modules/"));
  for (const file of ownFiles) {
    const path = relative(REPO, file.fileName);
    const moduleSymbol = checker.getSymbolAtLocation(file);
    if (path.startsWith("src/") && moduleSymbol) {
      for (const symbol of checker.getExportsOfModule(moduleSymbol)) {
        const target = resolved(checker, symbol);
        // Types are left out: an options interface or a result type describes an exported function's signature.
        if (target && target.flags & ts.SymbolFlags.Value && !findings.exported.has(target)) findings.exported.set(target, { file: path, name: symbol.name });
      }
    }
    const visit = (node: ts.Node): void => {
      if (ts.isImportSpecifier(node) || ts.isExportSpecifier(node)) {
        const declaration = ts.isExportSpecifier(node) ? node.parent.parent : node.parent.parent.parent;
        // `export { x }` of a local name is the module's own export, not a use.
        if (!ts.isExportSpecifier(node) || (declaration as ts.ExportDeclaration).moduleSpecifier) {
          const target = resolved(checker, checker.getSymbolAtLocation(node.name));
          if (target) findings.used.add(target);
        }
      } else if (ts.isImportClause(node) && node.name) {
        const target = resolved(checker, checker.getSymbolAtLocation(node.name));
        if (target) findings.used.add(target);
      } else if (ts.isNamespaceImport(node)) {
        const module = moduleFileOf(checker, (node.parent.parent as ts.ImportDeclaration).moduleSpecifier);
        if (module) findings.wholeModules.add(module);
      } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && !node.exportClause) {
        const module = moduleFileOf(checker, node.moduleSpecifier);
        if (module) findings.wholeModules.add(module);
      } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0]) {
        const module = moduleFileOf(checker, node.arguments[0]);
        if (module) findings.wholeModules.add(module);
      } else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) {
        const module = moduleFileOf(checker, node.argument.literal);
        if (module) findings.wholeModules.add(module);
      }
      ts.forEachChild(node, visit);
    };
    visit(file);
  }
}

export function deadExports(): string[] {
  const findings: Findings = { exported: new Map(), used: new Set(), wholeModules: new Set() };
  scan(wholeProgram(), findings);
  const dead: string[] = [];
  for (const [symbol, { file, name }] of findings.exported) {
    if (findings.used.has(symbol) || findings.wholeModules.has(join(REPO, file))) continue;
    const allowed = ENTRY_POINTS[file];
    if (allowed && (allowed.includes(name) || allowed.includes("*"))) continue;
    dead.push(`${file}: ${name}`);
  }
  return dead.sort();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const dead = deadExports();
  if (dead.length > 0) {
    console.error(`Exports no other module imports (remove them, or stop exporting them):\n  ${dead.join("\n  ")}`);
    process.exit(1);
  }
}
