#!/usr/bin/env python3
"""The shape of datagen's code, checked: no import cycles and no long files.

* No cycle between the top-level modules of the library (`value`,
  `schema`, `sink`, …), and none between its files: a file depends on
  another when it names an item of it (`use crate::…`, `super::…`, a path
  in the code). A `pub use` re-export and a `mod` declaration are not
  dependencies. Test modules (`#[cfg(test)]`) are left out.
* No source file is longer than LIMIT lines before its `#[cfg(test)]`
  module.

Prints the cycles and the long files and exits 1 if there are any. Run:
`python3 .ci/structure.py` (CI runs it).
"""

import os
import re
import sys

LIMIT = 800
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
CRATES = {"src": "crate", "actors/src": "datagen_actors"}


def module_of(base, path):
    """The module path of a file: src/sink/mod.rs -> ('sink',)."""
    rel = os.path.relpath(path, base)[: -len(".rs")]
    parts = rel.split(os.sep)
    if parts[-1] in ("mod", "lib", "main"):
        parts = parts[:-1]
    return tuple(parts)


def strip(text):
    """The code before its tests, without comments and literals."""
    cut = re.search(r"^#\[cfg\(test\)\]", text, re.M)
    if cut:
        text = text[: cut.start()]
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            i = text.find("\n", i)
            i = n if i < 0 else i
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
        elif c == "r" and re.match(r'r#*"', text[i:]) and not (i and (text[i - 1].isalnum() or text[i - 1] == "_")):
            hashes = re.match(r'r(#*)"', text[i:]).group(1)
            end = text.find('"' + hashes, i + 2 + len(hashes))
            i = n if end < 0 else end + 1 + len(hashes)
            out.append('""')
        elif c == '"':
            i += 1
            while i < n and text[i] != '"':
                i += 2 if text[i] == "\\" else 1
            i += 1
            out.append('""')
        elif c == "'" and re.match(r"'(\\.|[^'\\])'", text[i:]):
            i += len(re.match(r"'(\\.|[^'\\])'", text[i:]).group(0))
            out.append("''")
        else:
            out.append(c)
            i += 1
    return "".join(out)


def use_paths(tree):
    """The paths of a `use` tree: `a::{b, c::d}` -> a::b, a::c::d."""
    tree = tree.strip()
    m = re.match(r"^([\w:]*?)::\{(.*)\}$", tree, re.S)
    if not m:
        return [re.sub(r"\s+as\s+\w+$", "", tree)]
    prefix, inner = m.group(1), m.group(2)
    parts, depth, current = [], 0, ""
    for ch in inner:
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
            continue
        depth += ch == "{"
        depth -= ch == "}"
        current += ch
    parts.append(current)
    out = []
    for p in parts:
        p = p.strip()
        if not p:
            continue
        for sub in use_paths(p):
            out.append(prefix if sub == "self" else f"{prefix}::{sub}")
    return out


def references(code):
    """Paths the code names: in `use` items (not `pub use`) and inline."""
    paths = []
    for m in re.finditer(r"(^|\n)\s*(pub(\([^)]*\))?\s+)?use\s+([^;]+);", code):
        if m.group(2):
            continue
        paths.extend(use_paths(m.group(4)))
    body = re.sub(r"(^|\n)\s*(pub(\([^)]*\))?\s+)?use\s+[^;]+;", "\n", code)
    paths.extend(re.findall(r"\b((?:crate|super|self)(?:::\w+)+)", body))
    return paths


def resolve(module, path, modules, crate):
    """The module a path names an item of, or None outside the crate."""
    parts = path.split("::")
    if parts[0] == "crate":
        parts = parts[1:]
        base = ()
    elif parts[0] in ("super", "self"):
        base = module
        while parts and parts[0] in ("super", "self"):
            if parts[0] == "super":
                base = base[:-1]
            parts = parts[1:]
    elif parts[0] == crate:
        parts = parts[1:]
        base = ()
    else:
        # A path relative to this module: a child module, if it names one.
        base = module
        if base + (parts[0],) not in modules:
            return None
    target = base
    for p in parts:
        if target + (p,) not in modules:
            break
        target = target + (p,)
    return target


def cycles(graph):
    """The strongly connected components with more than one node."""
    index, low, stack, on, out, n = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = n[0]
        n[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in list(graph):
        if v not in index:
            visit(v)
    return out


def name(module):
    return "::".join(module) or "(root)"


def main():
    problems = 0
    for src, crate in CRATES.items():
        base = os.path.join(ROOT, src)
        files = {}
        for dirpath, _, names in os.walk(base):
            for f in names:
                if f.endswith(".rs"):
                    path = os.path.join(dirpath, f)
                    files[module_of(base, path)] = path
        modules = set(files)
        graph = {m: set() for m in modules}
        for module, path in files.items():
            text = open(path, encoding="utf-8").read()
            code = strip(text)
            lines = code.count("\n") + 1
            if lines > LIMIT:
                print(f"{os.path.relpath(path, ROOT)}: {lines} lines before its tests (at most {LIMIT})")
                problems += 1
            for ref in references(code):
                target = resolve(module, ref, modules, crate)
                if target is not None and target != module and target in modules:
                    graph[module].add(target)
        for comp in cycles(graph):
            print(f"{crate}: files depend on each other in a cycle: " + ", ".join(map(name, comp)))
            problems += 1
        top = {}
        for m, targets in graph.items():
            a = m[:1]
            for t in targets:
                if t[:1] != a and a and t[:1]:
                    top.setdefault(a, set()).add(t[:1])
        for comp in cycles(top):
            print(f"{crate}: modules depend on each other in a cycle: " + ", ".join(map(name, comp)))
            problems += 1
    if problems:
        sys.exit(1)
    print("structure: no import cycle, no file over", LIMIT, "lines")


if __name__ == "__main__":
    main()
