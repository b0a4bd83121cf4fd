#!/usr/bin/env python3
"""include_cycles.py - the module graph of jconnect's C sources, and its
circles.

A module is foo.c with foo.h (core/foo, plugins/ssm/ssm_chan ...).  Module
M depends on module N when a file of M includes N's header, or when M uses
a function that N defines and that a header M includes (directly or through
other headers) declares.  The second rule is why this is more than a list
of #include lines: a header that declares the functions of several modules
(jupyter.h declaring the parsers' entry points, a plugin's one header) would
otherwise hide a circle between them.  Including such a shared header is
not by itself a dependency on its .c; what is used from it is.

  include_cycles.py [--root DIR] [--edges] [--known FILE]

Prints every circle (a strongly connected set of modules) with the names
that make each of its edges, and exits 1 when there is one that FILE does
not list.  FILE lists circles that are known and left for later, one per
line, as the space-separated module names of the set (any order; shell
patterns such as core/aws* for an area being reworked; '#' starts a
comment).  A circle is listed when each of its modules matches a name of
one line.  A line that lists no circle any more also fails, so the list
can only shrink, and a circle that grows out of its line fails.  --edges prints the whole
graph, one "M -> N: names" line per edge.
"""
import argparse
import fnmatch
import os
import re
import sys

COMMENT = re.compile(r'/\*.*?\*/|//[^\n]*', re.S)
STRING = re.compile(r'"(?:\\.|[^"\\\n])*"')
INCLUDE = re.compile(r'^[ \t]*#[ \t]*include[ \t]*"([^"]+)"', re.M)
# OpenBSD style: the function name starts its line, the type is above it.
DEFINITION = re.compile(r'^([A-Za-z_]\w*)\(', re.M)
CALLED = re.compile(r'\b([A-Za-z_]\w*)[ \t]*\(')
IDENT = re.compile(r'\b[A-Za-z_]\w*\b')


def code_of(path):
    with open(path, encoding='utf-8', errors='replace') as f:
        text = f.read()
    includes = INCLUDE.findall(text)
    text = COMMENT.sub(' ', text)
    return includes, STRING.sub('""', text)


def scan(root):
    """Files under core/ and plugins/*/: {path: (includes, code)}."""
    files = {}
    cdir = os.path.join(root, 'core')
    dirs = [cdir] + sorted(os.path.join(cdir, d) for d in os.listdir(cdir)
                           if os.path.isdir(os.path.join(cdir, d)))
    pdir = os.path.join(root, 'plugins')
    if os.path.isdir(pdir):
        dirs += sorted(os.path.join(pdir, d) for d in os.listdir(pdir)
                       if os.path.isdir(os.path.join(pdir, d)))
    for d in dirs:
        for name in sorted(os.listdir(d)):
            if name.endswith(('.c', '.h')):
                p = os.path.join(d, name)
                files[os.path.relpath(p, root)] = code_of(p)
    return files


def module(path):
    return os.path.splitext(path)[0]


def core_dirs(files):
    """core and its folders by concern: the build's -I list, in order."""
    return ['core'] + sorted({os.path.dirname(p) for p in files
                              if p.startswith('core/') and p.count('/') == 2})


def resolve(files, src, inc):
    """The repository file that `#include "inc"` in src names (-Icore
    -Icore/DIR ...)."""
    for d in [os.path.dirname(src)] + core_dirs(files):
        p = os.path.normpath(os.path.join(d, inc))
        if p in files:
            return p
    return None


def definitions(code):
    """Functions a .c file defines for others (not static)."""
    out = set()
    for m in DEFINITION.finditer(code):
        start = code.rfind('\n', 0, max(m.start() - 1, 0)) + 1
        above = code[start:m.start()]
        # A body follows (not a call of a macro at the line start).
        brace, semi = code.find('{', m.end()), code.find(';', m.end())
        if brace < 0 or (0 <= semi < brace):
            continue
        if 'static' not in above.split():
            out.add(m.group(1))
    return out


def graph(files):
    defining = {}		# function -> modules defining it
    for p, (_, code) in sorted(files.items()):
        if p.endswith('.c'):
            for fn in definitions(code):
                defining.setdefault(fn, []).append(module(p))
    defs = {fn: ms[0] for fn, ms in defining.items()}

    def definer(fn, user):
        # Two plugins may each define a helper of the same name: the one
        # beside the user, else the core's, is the one it links.
        ms = defining[fn]
        for d in [os.path.dirname(user)] + core_dirs(files):
            for n in ms:
                if os.path.dirname(n) == d:
                    return n
        return ms[0]
    declared = {}		# header -> functions it declares
    for p, (_, code) in files.items():
        if p.endswith('.h'):
            declared[p] = {n for n in CALLED.findall(code) if n in defs}
    direct = {p: [h for h in (resolve(files, p, i) for i in incs) if h]
              for p, (incs, _) in files.items()}

    def reach(p, seen):
        for h in direct.get(p, ()):
            if h not in seen:
                seen.add(h)
                reach(h, seen)
        return seen

    def shared(h):
        # A header that declares other modules' functions (a plugin's one
        # header) is no module of its own: only what is used from it
        # counts.
        return any(module(h) not in defining[fn] for fn in declared[h])

    edges = {}			# (M, N) -> names
    for p, (_, code) in files.items():
        m = module(p)
        used = set(IDENT.findall(code))
        for h in direct[p]:
            n = module(h)
            if n != m and not shared(h):
                edges.setdefault((m, n), set()).add(os.path.basename(h))
        for h in reach(p, set()):
            for fn in declared[h] & used:
                n = definer(fn, m)
                if n != m:
                    edges.setdefault((m, n), set()).add(fn + '()')
    return edges


def circles(edges):
    """Strongly connected sets of more than one module (Tarjan)."""
    succ = {}
    for m, n in edges:
        succ.setdefault(m, set()).add(n)
        succ.setdefault(n, set())
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(succ[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            scc = set()
            while True:
                w = stack.pop()
                on.discard(w)
                scc.add(w)
                if w == v:
                    break
            if len(scc) > 1:
                out.append(frozenset(scc))

    sys.setrecursionlimit(10000)
    for v in sorted(succ):
        if v not in index:
            visit(v)
    return sorted(out, key=lambda s: sorted(s))


def read_known(path):
    known = []
    with open(path) as f:
        for line in f:
            line = line.split('#', 1)[0].split()
            if line:
                known.append(frozenset(line))
    return known


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--root', default=os.path.join(
        os.path.dirname(os.path.abspath(__file__)), '..', '..'))
    ap.add_argument('--edges', action='store_true')
    ap.add_argument('--known')
    a = ap.parse_args()
    edges = graph(scan(os.path.abspath(a.root)))
    if a.edges:
        for (m, n), why in sorted(edges.items()):
            print('%s -> %s: %s' % (m, n, ' '.join(sorted(why))))
    known = read_known(a.known) if a.known else []
    bad = 0
    found = circles(edges)
    def covers(k, scc):
        return all(any(fnmatch.fnmatchcase(m, p) for p in k) for m in scc)

    for scc in found:
        listed = any(covers(k, scc) for k in known)
        print('%s circle: %s' % ('known' if listed else 'NEW',
                                 ' '.join(sorted(scc))))
        for (m, n), why in sorted(edges.items()):
            if m in scc and n in scc:
                print('  %s -> %s: %s' % (m, n, ' '.join(sorted(why))))
        bad += not listed
    for k in known:
        if not any(covers(k, scc) for scc in found):
            print('GONE circle (remove it from the known list): %s' %
                  ' '.join(sorted(k)))
            bad += 1
    if not found:
        print('no circle')
    return 1 if bad else 0


if __name__ == '__main__':
    sys.exit(main())
