import ts from "typescript";

// Turns one compiled ES module of the extension (core/*.js, shell/*.js) into GNOME Shell 43–44's module format,
// changing only the import and export lines so the output stays the readable code tsc wrote:
//   import { a, b as c } from "../core/x-y.js"   →  const { a, b: c } = Me.imports.core["x-y"];
//   import * as N from "./n.js"                 →  const N = Me.imports.shell.n;
//   export function f / export class C / export const X  →  function f / var C = class C …; / var X
// (GJS's legacy importer exports top-level `var` and function declarations only.) Anything else — a default
// export, a re-export, an import of gi:// or resource:// — is an error: shell code gets those from its Platform.

export function toLegacyModule(source: string, modulePath: string): string {
  const file = ts.createSourceFile(modulePath, source, ts.ScriptTarget.ES2022, true, ts.ScriptKind.JS);
  const edits: { start: number; end: number; text: string }[] = [];
  let importsOwnModules = false;
  const fail = (node: ts.Node, why: string): never => {
    throw new Error(`${modulePath}:${file.getLineAndCharacterOfPosition(node.getStart()).line + 1}: ${why}`);
  };

  for (const statement of file.statements) {
    if (ts.isImportDeclaration(statement)) {
      importsOwnModules = true;
      const specifier = (statement.moduleSpecifier as ts.StringLiteral).text;
      const target = `Me.imports${legacyPath(resolveModule(modulePath, specifier, () => fail(statement, `import of ${specifier}`)))}`;
      const bindings = statement.importClause?.namedBindings;
      if (!statement.importClause || statement.importClause.name || !bindings) fail(statement, "only named or namespace imports are supported");
      const text = ts.isNamespaceImport(bindings!)
        ? `const ${bindings.name.text} = ${target};`
        : `const { ${(bindings as ts.NamedImports).elements
            .map((element) => (element.propertyName ? `${element.propertyName.getText()}: ${element.name.text}` : element.name.text))
            .join(", ")} } = ${target};`;
      edits.push({ start: statement.getStart(), end: statement.getEnd(), text });
    } else if (ts.isExportDeclaration(statement)) {
      if (statement.exportClause && ts.isNamedExports(statement.exportClause) && statement.exportClause.elements.length === 0 && !statement.moduleSpecifier) {
        edits.push({ start: statement.getStart(), end: statement.getEnd(), text: "" });
      } else {
        fail(statement, "re-exports are not supported in the legacy format");
      }
    } else if (ts.isExportAssignment(statement)) {
      fail(statement, "default exports are not supported in the legacy format");
    } else if (hasExportModifier(statement)) {
      const modifier = ts.getModifiers(statement as ts.HasModifiers)!.find((m) => m.kind === ts.SyntaxKind.ExportKeyword)!;
      if (ts.getModifiers(statement as ts.HasModifiers)!.some((m) => m.kind === ts.SyntaxKind.DefaultKeyword)) fail(statement, "default exports are not supported");
      if (ts.isFunctionDeclaration(statement)) {
        edits.push({ start: modifier.getStart(), end: modifier.getEnd() + 1, text: "" });
      } else if (ts.isClassDeclaration(statement) && statement.name) {
        const name = statement.name.text;
        edits.push({ start: modifier.getStart(), end: statement.name.getEnd(), text: `var ${name} = class ${name}` });
        edits.push({ start: statement.getEnd(), end: statement.getEnd(), text: ";" });
      } else if (ts.isVariableStatement(statement)) {
        const keyword = statement.declarationList.getFirstToken()!;
        edits.push({ start: modifier.getStart(), end: keyword.getEnd(), text: "var" });
      } else {
        fail(statement, "unsupported export");
      }
    }
  }

  let output = source;
  for (const edit of edits.sort((a, b) => b.start - a.start)) output = output.slice(0, edit.start) + edit.text + output.slice(edit.end);
  const header = importsOwnModules ? "const Me = imports.misc.extensionUtils.getCurrentExtension();\n" : "";
  return `// GNOME Shell 43–44 module format, converted from the ES module by scripts/gnome-extension/legacy-modules.ts.\n${header}${output}`;
}

function hasExportModifier(statement: ts.Statement): boolean {
  return ts.canHaveModifiers(statement) && (ts.getModifiers(statement) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword);
}

/** "shell/controller.js" importing "../core/x.js" → ["core", "x"]; only the extension's own modules. */
export function resolveModule(modulePath: string, specifier: string, reject: () => never): string[] {
  if (!specifier.startsWith("./") && !specifier.startsWith("../")) reject();
  if (!specifier.endsWith(".js")) reject();
  const parts = modulePath.split("/").slice(0, -1);
  for (const part of specifier.slice(0, -3).split("/")) {
    if (part === ".") continue;
    if (part === "..") {
      if (parts.length === 0) reject();
      parts.pop();
    } else parts.push(part);
  }
  return parts;
}

export function legacyPath(parts: string[]): string {
  return parts.map((part) => (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(part) ? `.${part}` : `[${JSON.stringify(part)}]`)).join("");
}

/** Entry points are written for the legacy format already; tsc only adds the `export {};` of a module file. */
export function toLegacyEntry(source: string): string {
  return source.replace(/^export \{\};\n?/m, "");
}
