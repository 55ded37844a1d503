// Every string a person reads is translated: both dictionaries have the same keys and the same
// placeholders, and no component writes text of its own (JSX text, or a text attribute such as
// aria-label or placeholder given as a literal).
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { en } from "./en";
import { fr } from "./fr";
import { translate } from "./index";

const SRC = fileURLToPath(new URL("..", import.meta.url)); // import.meta.dirname needs Node 20.11
const TEXT_ATTRIBUTES = new Set(["aria-label", "aria-description", "title", "placeholder", "alt", "label"]);
const LETTERS = /\p{L}/u;

function sources(dir: string, ext: RegExp): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path, ext);
    return ext.test(name) && !name.endsWith(".test.ts") ? [path] : [];
  });
}

const placeholders = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

/** Literal text in a component: "file:line text". */
function literalText(path: string): string[] {
  const file = ts.createSourceFile(path, readFileSync(path, "utf8"), ts.ScriptTarget.Latest, true, ts.ScriptKind.TSX);
  const found: string[] = [];
  const report = (node: ts.Node, text: string) => {
    const line = file.getLineAndCharacterOfPosition(node.getStart()).line + 1;
    found.push(`${relative(SRC, path)}:${line} ${JSON.stringify(text.trim())}`);
  };
  const visit = (node: ts.Node) => {
    if (ts.isJsxText(node) && LETTERS.test(node.text)) report(node, node.text);
    if (ts.isJsxAttribute(node) && TEXT_ATTRIBUTES.has(node.name.getText(file)) && node.initializer) {
      const init = node.initializer;
      const value = ts.isJsxExpression(init) ? init.expression : init;
      if (value && (ts.isStringLiteral(value) || ts.isNoSubstitutionTemplateLiteral(value)) && LETTERS.test(value.text))
        report(node, value.text);
    }
    if (ts.isJsxExpression(node) && node.parent && (ts.isJsxElement(node.parent) || ts.isJsxFragment(node.parent))) {
      const e = node.expression;
      if (e && (ts.isStringLiteral(e) || ts.isNoSubstitutionTemplateLiteral(e)) && LETTERS.test(e.text))
        report(node, e.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

describe("translations", () => {
  it("has the same keys in French and English", () => {
    expect(Object.keys(en).sort()).toEqual(Object.keys(fr).sort());
  });

  it("translates every key, with the same placeholders", () => {
    for (const [key, text] of Object.entries(fr)) {
      const english = (en as Record<string, string>)[key] ?? "";
      expect(text.trim(), key).not.toBe("");
      expect(english.trim(), key).not.toBe("");
      expect(placeholders(english), key).toEqual(placeholders(text));
    }
  });

  it("has a plural form only beside its base key", () => {
    for (const key of Object.keys(fr).filter((k) => k.endsWith("_one"))) {
      expect(Object.keys(fr), key).toContain(key.slice(0, -4));
    }
  });

  it("uses every key somewhere in the app", () => {
    const code = sources(SRC, /\.tsx?$/)
      .filter((p) => !p.includes(`${join("src", "i18n")}`))
      .map((p) => readFileSync(p, "utf8"))
      .join("\n");
    const unused = Object.keys(fr).filter((k) => !k.endsWith("_one") && !code.includes(`"${k}"`));
    expect(unused).toEqual([]);
  });

  it("finds no literal text in components", () => {
    expect(sources(SRC, /\.tsx$/).flatMap(literalText)).toEqual([]);
  });

  it("fills placeholders and picks the singular the way each language counts", () => {
    expect(translate("fr", "plays.total", { count: 0 })).toBe("0 diffusion");
    expect(translate("en", "plays.total", { count: 0 })).toBe("0 plays");
    expect(translate("fr", "plays.total", { count: 1 })).toBe("1 diffusion");
    expect(translate("fr", "plays.total", { count: 1234 })).toBe(`1${"\u202f"}234 diffusions`);
    expect(translate("en", "plays.total", { count: 1234 })).toBe("1,234 plays");
    expect(translate("en", "evidence.flaggedBy", { by: "awa" })).toBe(
      "Flagged wrong by awa on {at}: left out of reports",
    );
  });
});
