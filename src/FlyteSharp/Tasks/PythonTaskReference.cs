using System.Text.RegularExpressions;

namespace FlyteSharp.Tasks;

/// <summary>A Python function named as <c>package.module:function</c>, resolved inside the code bundle.</summary>
public sealed partial record PythonTaskReference
{
    private PythonTaskReference(string module, string function)
    {
        Module = module;
        Function = function;
    }

    /// <summary>The dotted module name, e.g. <c>workspace_app.tasks.etl_tasks</c>.</summary>
    public string Module { get; }

    /// <summary>The function's name in the module, e.g. <c>load_data</c>.</summary>
    public string Function { get; }

    /// <summary>The module's path relative to root_dir, e.g. <c>workspace_app/tasks/etl_tasks.py</c>.</summary>
    public string ModulePath => Module.Replace('.', '/') + ".py";

    /// <summary>Parses <c>module:function</c>.</summary>
    /// <exception cref="FlyteSharpException">The text is not of that form.</exception>
    public static PythonTaskReference Parse(string reference)
    {
        var m = Pattern().Match(reference ?? "");
        if (!m.Success)
        {
            throw new FlyteSharpException($"Python task reference '{reference}' is not of the form package.module:function",
                fix: "write it like \"workspace_app.tasks.etl_tasks:load_data\"");
        }

        return new PythonTaskReference(m.Groups["m"].Value, m.Groups["f"].Value);
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Module}:{Function}";

    [GeneratedRegex(@"^(?<m>[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*):(?<f>[A-Za-z_][A-Za-z0-9_]*)$")]
    private static partial Regex Pattern();
}
