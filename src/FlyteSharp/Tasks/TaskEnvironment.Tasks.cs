namespace FlyteSharp.Tasks;

// Task-definition methods: the C# counterpart of the seed's `@env.task`.
public sealed partial class TaskEnvironment
{
    private readonly List<TaskDefinition> _tasks = [];

    /// <summary>The tasks defined on this environment, in definition order. A run checks this environment's Python tasks before it starts.</summary>
    public IReadOnlyList<TaskDefinition> Tasks
    {
        get
        {
            lock (_tasks)
            {
                return _tasks.ToArray();
            }
        }
    }

    internal void Register(TaskDefinition task)
    {
        lock (_tasks)
        {
            _tasks.Add(task);
        }
    }

    /// <summary>Defines a C# task with no inputs.</summary>
    /// <param name="name">The task's name, unique within the program (e.g. <c>etl_pipeline</c>).</param>
    /// <param name="body">The async body.</param>
    /// <param name="options">Retries, timeout, caching.</param>
    public FlyteTask<TOut> Task<TOut>(string name, Func<Task<TOut>> body, TaskOptions? options = null) =>
        new(this, CheckName(name), body, options);

    /// <summary>Defines a C# task with one input; the lambda's parameter name is the input's name.</summary>
    /// <param name="name">The task's name, unique within the program.</param>
    /// <param name="body">The async body, e.g. <c>async (int n) => …</c>.</param>
    /// <param name="options">Retries, timeout, caching.</param>
    public FlyteTask<T1, TOut> Task<T1, TOut>(string name, Func<T1, Task<TOut>> body, TaskOptions? options = null) =>
        new(this, CheckName(name), body, options);

    /// <summary>Defines a C# task with two inputs.</summary>
    /// <param name="name">The task's name, unique within the program.</param>
    /// <param name="body">The async body.</param>
    /// <param name="options">Retries, timeout, caching.</param>
    public FlyteTask<T1, T2, TOut> Task<T1, T2, TOut>(string name, Func<T1, T2, Task<TOut>> body, TaskOptions? options = null) =>
        new(this, CheckName(name), body, options);

    /// <summary>Defines a C# task with three inputs.</summary>
    /// <param name="name">The task's name, unique within the program.</param>
    /// <param name="body">The async body.</param>
    /// <param name="options">Retries, timeout, caching.</param>
    public FlyteTask<T1, T2, T3, TOut> Task<T1, T2, T3, TOut>(string name, Func<T1, T2, T3, Task<TOut>> body, TaskOptions? options = null) =>
        new(this, CheckName(name), body, options);

    /// <summary>Defines a C# task with four inputs.</summary>
    /// <param name="name">The task's name, unique within the program.</param>
    /// <param name="body">The async body.</param>
    /// <param name="options">Retries, timeout, caching.</param>
    public FlyteTask<T1, T2, T3, T4, TOut> Task<T1, T2, T3, T4, TOut>(string name, Func<T1, T2, T3, T4, Task<TOut>> body, TaskOptions? options = null) =>
        new(this, CheckName(name), body, options);

    /// <summary>Defines a Python task with no inputs: a plain function in the project's source under root_dir.</summary>
    /// <param name="reference"><c>package.module:function</c>, e.g. <c>workspace_app.tasks.etl_tasks:load_data</c>.</param>
    /// <param name="options">Retries, timeout, caching.</param>
    public FlyteTask<TOut> PythonTask<TOut>(string reference, TaskOptions? options = null) =>
        new(this, PythonTaskReference.Parse(reference), options, []);

    /// <summary>Defines a Python task with one input. Inputs are passed by the function's parameter names, learned from its signature before a run starts, or given here.</summary>
    /// <param name="reference"><c>package.module:function</c>.</param>
    /// <param name="options">Retries, timeout, caching.</param>
    /// <param name="parameterNames">The function's parameter names, in order (optional).</param>
    public FlyteTask<T1, TOut> PythonTask<T1, TOut>(string reference, TaskOptions? options = null, params string[] parameterNames) =>
        new(this, PythonTaskReference.Parse(reference), options, NamesOrNull(parameterNames));

    /// <summary>Defines a Python task with two inputs.</summary>
    /// <param name="reference"><c>package.module:function</c>.</param>
    /// <param name="options">Retries, timeout, caching.</param>
    /// <param name="parameterNames">The function's parameter names, in order (optional).</param>
    public FlyteTask<T1, T2, TOut> PythonTask<T1, T2, TOut>(string reference, TaskOptions? options = null, params string[] parameterNames) =>
        new(this, PythonTaskReference.Parse(reference), options, NamesOrNull(parameterNames));

    /// <summary>Defines a Python task with three inputs.</summary>
    /// <param name="reference"><c>package.module:function</c>.</param>
    /// <param name="options">Retries, timeout, caching.</param>
    /// <param name="parameterNames">The function's parameter names, in order (optional).</param>
    public FlyteTask<T1, T2, T3, TOut> PythonTask<T1, T2, T3, TOut>(string reference, TaskOptions? options = null, params string[] parameterNames) =>
        new(this, PythonTaskReference.Parse(reference), options, NamesOrNull(parameterNames));

    /// <summary>Defines a Python task with four inputs.</summary>
    /// <param name="reference"><c>package.module:function</c>.</param>
    /// <param name="options">Retries, timeout, caching.</param>
    /// <param name="parameterNames">The function's parameter names, in order (optional).</param>
    public FlyteTask<T1, T2, T3, T4, TOut> PythonTask<T1, T2, T3, T4, TOut>(string reference, TaskOptions? options = null, params string[] parameterNames) =>
        new(this, PythonTaskReference.Parse(reference), options, NamesOrNull(parameterNames));

    private static string[]? NamesOrNull(string[] names) => names.Length == 0 ? null : names;

    private static string CheckName(string name)
    {
        if (string.IsNullOrWhiteSpace(name) || name.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c is '/' or ':'))
        {
            throw new FlyteSharpException($"task name '{name}' is not valid",
                fix: "use letters, digits, '_', '-' and '.', e.g. \"etl_pipeline\"");
        }

        return name;
    }
}
