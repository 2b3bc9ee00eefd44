"""The interface digest of a deploy check's code tars (FlyteSharp, Deploy/DeployCheckCache).

usage: python3 -I -S -B -c <this script> TAR [TAR ...]
prints "python MAJOR.MINOR", then one line per TAR: its hex digest, or "-" when it has none (a file that does not
compile, an entry that is not a regular file, anything unexpected). Never imports or runs the code it reads.

The digest covers everything a `--describe` of the code can see: what runs when a module is imported (module and class
bodies, decorators, default values, annotations, the bodies of functions that import-time code may call) and every
other file's bytes. Function bodies are replaced by `pass` when nothing run at import can reach them, so an edit inside
such a body keeps the digest. A body is kept whole (so any edit to it changes the digest) when its function's name is
referenced, or written as a string, in code kept so far (to a fixpoint over all modules), when the function is a dunder
(called implicitly: __init__, __init_subclass__, __set_name__, ...), and for every function when kept code uses
something that reaches code or source by other means (eval, getattr, inspect, __file__, ...).
"""
import ast
import hashlib
import sys
import tarfile

# Names through which import-time code can call a function without naming it, or read its source or bytecode.
DYNAMIC = {
    "eval", "exec", "compile", "globals", "locals", "vars", "getattr", "setattr", "delattr", "__import__",
    "__dict__", "__code__", "__file__", "__loader__", "__spec__", "__builtins__", "_getframe", "inspect",
    "importlib", "getsource", "linecache", "runpy", "pkgutil", "dis", "ast", "tokenize", "func_code",
}
FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
SCOPES = FUNCTIONS + (ast.Lambda, ast.ClassDef)


def import_time_nodes(node):
    """Every node of `node` that runs at import: all but the bodies of functions (their decorators, arguments,
    defaults, annotations and return annotations are included)."""
    stack = [node]
    while stack:
        current = stack.pop()
        yield current
        if isinstance(current, FUNCTIONS):
            stack.extend(current.decorator_list)
            stack.append(current.args)
            if current.returns is not None:
                stack.append(current.returns)
            stack.extend(getattr(current, "type_params", []))
        else:
            stack.extend(ast.iter_child_nodes(current))


def names_in(nodes):
    found = set()
    for n in nodes:
        if isinstance(n, ast.Name):
            found.add(n.id)
        elif isinstance(n, ast.Attribute):
            found.add(n.attr)
        elif isinstance(n, ast.alias):
            found.update(n.name.split("."))
            if n.asname:
                found.add(n.asname)
        elif isinstance(n, ast.Constant) and isinstance(n.value, str):
            found.add(n.value)
        elif isinstance(n, ast.keyword) and n.arg:
            found.add(n.arg)
    return found


def candidates(tree):
    """The functions defined at import (not inside another function's body): the ones whose bodies may be stripped."""
    return [n for n in import_time_nodes(tree) if isinstance(n, FUNCTIONS)]


def own_nodes(body):
    """The nodes of a body outside nested scopes (for yield / super, which change the function or its class)."""
    stack = list(body)
    while stack:
        current = stack.pop()
        yield current
        if not isinstance(current, SCOPES):
            stack.extend(ast.iter_child_nodes(current))


def strip(function):
    own = list(own_nodes(function.body))
    body = []
    first = function.body[0] if function.body else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        body.append(first)  # the docstring is the function's __doc__
    body.append(ast.Pass())
    # A yield makes a generator; super() or __class__ gives the class a __classcell__: both visible without a call.
    if any(isinstance(n, (ast.Yield, ast.YieldFrom)) for n in own):
        body.append(ast.Expr(ast.Yield()))
    if any(isinstance(n, ast.Name) and n.id in ("super", "__class__") for n in own):
        body.append(ast.Expr(ast.Name("__class__", ast.Load())))
    function.body = body


def digest(path):
    files = {}
    with tarfile.open(path, mode="r:") as tar:
        for member in tar:
            if not member.isreg():
                return None
            files[member.name] = (member.mode & 0o7777, tar.extractfile(member).read())
    trees = {}
    for name, (_, data) in files.items():
        if name.endswith(".py"):
            compile(data, name, "exec", dont_inherit=True)
            trees[name] = ast.parse(data, filename=name)
    functions = [f for tree in trees.values() for f in candidates(tree)]
    names = set()
    for tree in trees.values():
        names |= names_in(import_time_nodes(tree))
    keep = set()
    while not names & DYNAMIC:
        grown = [f for f in functions if id(f) not in keep and (f.name in names or (f.name.startswith("__") and f.name.endswith("__")))]
        if not grown:
            for f in functions:
                if id(f) not in keep:
                    strip(f)
            break
        for f in grown:
            keep.add(id(f))
            names |= names_in(ast.walk(f))
    entries = []
    for name in sorted(files):
        mode, data = files[name]
        if name in trees:
            content = b"py\0" + ast.dump(trees[name], include_attributes=False).encode("utf-8")
        else:
            content = b"bytes\0" + data
        entries.append(b"%s\0%o\0%s\n" % (name.encode("utf-8", "surrogateescape"), mode, hashlib.sha256(content).hexdigest().encode()))
    return hashlib.sha256(b"".join(entries)).hexdigest()


def main():
    sys.setrecursionlimit(10000)
    print("python %d.%d" % sys.version_info[:2])
    for path in sys.argv[1:]:
        try:
            result = digest(path)
        except BaseException:  # a syntax error, a file too deep for the parser, an unreadable tar: no avoidance
            result = None
        print(result or "-")


main()
