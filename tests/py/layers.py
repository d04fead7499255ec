"""The tree's layers, checked from the sources: each folder includes only
from itself and the folders below it (base < kernels < transport < wire <
stages < filters, tools), no two modules include each other (directly or
round a cycle), kernels/ use neither MessagePack nor ZeroMQ and never exit,
and nothing is named like a libc function. Prints one ok/not ok line per
rule; exits 0."""
import os, re, sys

top = sys.argv[1]
layers = ["base", "kernels", "transport", "wire", "stages"]
rank = {d: i for i, d in enumerate(layers)}
rank.update({"filters": 5, "tools": 5})
home = {}  # header -> folder
for d in layers:
    for f in os.listdir(os.path.join(top, d)):
        if f.endswith(".h"):
            home[f] = d
sources = []
for d in layers + ["filters", "tools"]:
    for root, _, files in os.walk(os.path.join(top, d)):
        for f in files:
            if f.endswith((".c", ".h")):
                sources.append((d, os.path.join(root, f)))

def includes(path):
    return re.findall(r'^#include "([^"]+)"', open(path).read(), re.M)

def ok(cond, name, evidence=()):
    print(("ok - " if cond else "not ok - ") + name)
    for e in list(evidence)[:5]:
        print("#   " + e)

upward = []
graph = {}  # module (folder/name) -> modules it includes
for d, path in sources:
    mod = os.path.splitext(os.path.relpath(path, top))[0]
    for h in includes(path):
        if h not in home:
            continue
        if rank[home[h]] > rank[d]:
            upward.append(f"{os.path.relpath(path, top)} includes {home[h]}/{h}")
        dep = home[h] + "/" + h[:-2]
        if dep != mod:
            graph.setdefault(mod, set()).add(dep)
ok(not upward, "each layer includes only from itself and the layers below it", upward)

# cycles between modules (a .c and its .h are one module)
cycles, state = [], {}
def visit(m, stack):
    state[m] = 1
    for n in sorted(graph.get(m, ())):
        if state.get(n) == 1:
            cycles.append(" -> ".join(stack[stack.index(n):] + [n]) if n in stack else f"{m} -> {n}")
        elif n not in state:
            visit(n, stack + [n])
    state[m] = 2
for m in sorted(graph):
    if m not in state:
        visit(m, [m])
ok(not cycles, "no include cycle between modules", cycles)

bad = []
for f in os.listdir(os.path.join(top, "kernels")):
    text = open(os.path.join(top, "kernels", f)).read()
    for pat, what in ((r'#include [<"](msgpack|zmq)', "MessagePack or ZeroMQ"),
                      (r'\b(die|die_usage|exit|abort)\s*\(', "an exit"),
                      (r'#include "err.h"', "err.h")):
        if re.search(pat, text):
            bad.append(f"kernels/{f}: {what}")
ok(not bad, "kernels/ have no MessagePack, no ZeroMQ, no exit", bad)

libc = {"warn", "warnx", "err", "errx", "error", "verr", "vwarn", "vwarnx", "error_at_line",
        "strlcpy", "strlcat", "reallocarray", "getline", "basename", "dirname", "index"}
named = []
for d, path in sources:
    for name in re.findall(r'^(?:[a-z_][a-z0-9_ ]*[ \*])?\**([a-z_][a-z0-9_]*)\(', open(path).read(), re.M):
        if name in libc:
            named.append(f"{os.path.relpath(path, top)}: {name}")
ok(not named, "no function named like a libc function (warnx, err, reallocarray, ...)", named)
