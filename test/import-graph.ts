import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";

// The module graph of src/, read from the syntax tree (so comments and strings are not mistaken for imports).
// Used by test/import-graph.test.ts.

export interface ModuleGraph {
  /** Module → what its import and export-from declarations load, as repository paths ("src/vmd/main.ts"). */
  imports: Map<string, string[]>;
  /** Module → what it loads lazily with import(), when a command or feature first needs it. */
  lazyImports: Map<string, string[]>;
}

export function readModuleGraph(root: string, folder = "src"): ModuleGraph {
  const imports = new Map<string, string[]>();
  const lazyImports = new Map<string, string[]>();
  for (const file of typescriptFiles(join(root, folder))) {
    const source = ts.createSourceFile(file, readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
    const declared: string[] = [];
    const lazy: string[] = [];
    const visit = (node: ts.Node): void => {
      if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
        declared.push(node.moduleSpecifier.text);
      } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
        const [specifier] = node.arguments;
        if (specifier && ts.isStringLiteral(specifier)) lazy.push(specifier.text);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
    const local = (names: string[]) =>
      names.filter((name) => name.startsWith(".")).map((name) => relative(root, resolve(dirname(file), name.replace(/\.js$/, ".ts"))));
    imports.set(relative(root, file), local(declared));
    lazyImports.set(relative(root, file), local(lazy));
  }
  return { imports, lazyImports };
}

function typescriptFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".ts") && !entry.name.endsWith(".d.ts"))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

/** Every cycle, each as the modules along it (first module repeated at the end); empty when the graph is acyclic. */
export function importCycles(imports: Map<string, string[]>): string[][] {
  const cycles: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const visit = (module: string): void => {
    state.set(module, "open");
    path.push(module);
    for (const target of imports.get(module) ?? []) {
      if (state.get(target) === "open") cycles.push([...path.slice(path.indexOf(target)), target]);
      else if (!state.has(target)) visit(target);
    }
    path.pop();
    state.set(module, "done");
  };
  for (const module of imports.keys()) if (!state.has(module)) visit(module);
  return cycles;
}

/** The room of a module: the folder under src/ ("vmd", "session", "shared", …). */
export function roomOf(module: string): string {
  return module.split("/")[1] ?? "";
}

/** Each import, lazy or not, that crosses from one room into another, as "from → to". */
export function crossRoomImports({ imports, lazyImports }: ModuleGraph): string[] {
  const edges: string[] = [];
  for (const [module, targets] of [...imports, ...lazyImports]) {
    for (const target of targets) if (roomOf(module) !== roomOf(target)) edges.push(`${module} → ${target}`);
  }
  return edges;
}
