#!/usr/bin/env python3
"""Fails when a dependency's license is not one deny.toml allows.

Reads `cargo metadata` for the locked dependency graph and checks each
crate's SPDX expression: an OR expression passes when one side is allowed,
an AND expression when every side is.
"""
import json
import re
import subprocess
import sys
import tomllib

with open("deny.toml", "rb") as f:
    allowed = set(tomllib.load(f)["licenses"]["allow"])

meta = json.loads(subprocess.check_output(["cargo", "metadata", "--format-version", "1", "--locked"]))


def ok(expr: str) -> bool:
    expr = expr.strip()
    while expr.startswith("(") and expr.endswith(")"):
        expr = expr[1:-1].strip()
    for op, combine in ((" OR ", any), (" AND ", all)):
        depth, parts, start = 0, [], 0
        for i, c in enumerate(expr):
            depth += c == "("
            depth -= c == ")"
            if depth == 0 and expr.startswith(op, i):
                parts.append(expr[start:i])
                start = i + len(op)
        if parts:
            parts.append(expr[start:])
            return combine(ok(p) for p in parts)
    return expr in allowed


bad = []
for pkg in meta["packages"]:
    if pkg["source"] is None:
        continue  # this workspace's own crates
    lic = (pkg.get("license") or "").replace("/", " OR ")
    lic = re.sub(r"\s+", " ", lic)
    if not lic or not ok(lic):
        bad.append(f"{pkg['name']} {pkg['version']}: {pkg.get('license')!r}")

if bad:
    print("dependencies with licenses deny.toml does not allow:", *bad, sep="\n  ")
    sys.exit(1)
print(f"licenses: {sum(p['source'] is not None for p in meta['packages'])} dependencies, all allowed")
