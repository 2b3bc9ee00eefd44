using System.Text.RegularExpressions;

namespace FlyteSharp.Tasks;

/// <summary>
/// A task defined on a <see cref="TaskEnvironment"/>: a name, typed inputs and output, and a body
/// written in C# or Python. The typed subclasses (<see cref="FlyteTask{TOut}"/> and friends) are
/// what user code calls; inside a run each call becomes a child action, outside a run it is a plain call.
/// </summary>
public abstract partial class TaskDefinition
{
    private readonly Type[] _inputTypes;
    private volatile IReadOnlyList<TaskParameter>? _parameters;

    private protected TaskDefinition(TaskEnvironment environment, string name, TaskKind kind, Type[] inputTypes, Type outputType,
        TaskOptions? options, IReadOnlyList<string>? parameterNames, PythonTaskReference? python)
    {
        ArgumentNullException.ThrowIfNull(environment);
        Environment = environment;
        Name = name;
        Kind = kind;
        _inputTypes = inputTypes;
        OutputType = outputType;
        Options = options ?? TaskOptions.Default;
        Options.Validate(name);
        Python = python;
        if (parameterNames is not null)
        {
            _parameters = BindNames(parameterNames);
        }

        environment.Register(this);
    }

    /// <summary>The task's name (C# tasks: as given; Python tasks: <c>module:function</c>).</summary>
    public string Name { get; }

    /// <summary>The environment the task runs in.</summary>
    public TaskEnvironment Environment { get; }

    /// <summary>Whether the body is C# or Python.</summary>
    public TaskKind Kind { get; }

    /// <summary>The output's C# type.</summary>
    public Type OutputType { get; }

    /// <summary>Retries, timeout and caching.</summary>
    public TaskOptions Options { get; }

    /// <summary>The Python function, for Python tasks; null for C# tasks.</summary>
    public PythonTaskReference? Python { get; }

    /// <summary>The inputs' C# types, in order.</summary>
    public IReadOnlyList<Type> InputTypes => _inputTypes;

    /// <summary>
    /// The named inputs. Always known for C# tasks; for Python tasks given at definition or learned from the
    /// function's signature when a run first checks the task (null until then).
    /// </summary>
    public IReadOnlyList<TaskParameter>? Parameters => _parameters;

    /// <inheritdoc/>
    public override string ToString() => $"{Environment.Name}.{Name}";

    /// <summary>Records parameter names learned from a Python signature (first writer wins; later ones must agree).</summary>
    internal IReadOnlyList<TaskParameter> LearnParameterNames(IReadOnlyList<string> names)
    {
        var bound = BindNames(names);
        var existing = Interlocked.CompareExchange(ref _parameters, bound, null);
        if (existing is not null && !existing.Select(p => p.Name).SequenceEqual(names))
        {
            throw new FlyteSharpException(
                $"task '{Name}' was declared with parameters ({string.Join(", ", existing.Select(p => p.Name))}) but the Python function takes ({string.Join(", ", names)})",
                fix: "make the declared parameter names match the Python function's");
        }

        return existing ?? bound;
    }

    /// <summary>The C# body (its method's module identifies the code version for caching); null for Python tasks.</summary>
    internal abstract Delegate? Body { get; }

    /// <summary>Runs the body once (no retries, no timeout): C# delegate or, for Python tasks, nothing (the executor runs those).</summary>
    internal abstract Task<object?> InvokeBodyAsync(object?[] inputs);

    /// <summary>Calls the task: a child action inside a run, a plain call outside one.</summary>
    private protected async Task<TOut> CallAsync<TOut>(object?[] inputs)
    {
        var result = await TaskCalls.CallAsync(this, inputs).ConfigureAwait(false);
        return (TOut)result!;
    }

    private TaskParameter[] BindNames(IReadOnlyList<string> names)
    {
        if (names.Count != _inputTypes.Length)
        {
            throw new FlyteSharpException(
                $"task '{Name}' takes {names.Count} input(s) ({string.Join(", ", names)}) but is declared with {_inputTypes.Length} input type(s) ({string.Join(", ", _inputTypes.Select(TypeNames.Describe))})",
                fix: "declare one generic input type per parameter, in the function's order");
        }

        if (names.Distinct(StringComparer.Ordinal).Count() != names.Count || names.Any(n => !ParameterName().IsMatch(n)))
        {
            throw new FlyteSharpException($"task '{Name}': parameter names ({string.Join(", ", names)}) must be distinct identifiers",
                fix: "name every parameter, e.g. (int n) => …");
        }

        return names.Select((n, i) => new TaskParameter(n, _inputTypes[i])).ToArray();
    }

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex ParameterName();
}
