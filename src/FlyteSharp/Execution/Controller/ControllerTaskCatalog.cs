using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.CompilerServices;
using FlyteSharp.Tasks;

namespace FlyteSharp.Execution.Controller;

/// <summary>
/// Finds the task a worker names among the run's known task definitions: the tasks of every environment the run has
/// touched and, when that misses, the static task fields and properties of the assemblies those tasks' bodies live in
/// (a child a containerised body calls may never have been touched in the driver; its declaring type is initialized then,
/// as the CLI initializes types to find tasks).
/// </summary>
internal sealed class ControllerTaskCatalog
{
    private readonly Func<IEnumerable<TaskDefinition>> _knownTasks;
    private readonly ConcurrentDictionary<Assembly, IReadOnlyList<TaskDefinition>> _scanned = new();

    public ControllerTaskCatalog(Func<IEnumerable<TaskDefinition>> knownTasks) => _knownTasks = knownTasks;

    /// <summary>The task named <paramref name="name"/> (in <paramref name="environment"/> when given).</summary>
    /// <exception cref="ControllerHttpException">No such task (404), or several (400); the message lists what there is.</exception>
    public TaskDefinition Find(string name, string? environment)
    {
        var matches = Matches(_knownTasks(), name, environment);
        if (matches.Count == 0)
        {
            matches = Matches(ScannedTasks(), name, environment);
        }

        return matches.Count switch
        {
            1 => matches[0],
            0 => throw new ControllerHttpException(404, FlyteSharp.Controller.ControllerProtocol.ErrorTypes.NotFound,
                $"the driver knows no task named '{name}'{(environment is null ? "" : $" in environment '{environment}'")}; known tasks: {Known()}"),
            _ => throw new ControllerHttpException(400, FlyteSharp.Controller.ControllerProtocol.ErrorTypes.BadRequest,
                $"task name '{name}' matches {matches.Count} tasks ({string.Join(", ", matches)}): send \"environment\" to pick one"),
        };
    }

    private static List<TaskDefinition> Matches(IEnumerable<TaskDefinition> tasks, string name, string? environment) =>
        tasks.Where(t => t.Name == name && (environment is null || t.Environment.Name == environment)).Distinct().ToList();

    private string Known()
    {
        var names = _knownTasks().Concat(ScannedTasks()).Select(t => t.Name).Distinct().Order(StringComparer.Ordinal).ToList();
        return names.Count == 0 ? "(none)" : names.Count <= 20 ? string.Join(", ", names) : string.Join(", ", names.Take(20)) + $", … ({names.Count} in all)";
    }

    private IEnumerable<TaskDefinition> ScannedTasks()
    {
        var assemblies = _knownTasks().Select(t => t.Body?.Method.Module.Assembly).OfType<Assembly>().Distinct();
        return assemblies.SelectMany(a => _scanned.GetOrAdd(a, Scan));
    }

    private static IReadOnlyList<TaskDefinition> Scan(Assembly assembly)
    {
        const BindingFlags flags = BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly;
        var result = new List<TaskDefinition>();
        Type[] types;
        try
        {
            types = assembly.GetTypes();
        }
        catch (ReflectionTypeLoadException ex)
        {
            types = ex.Types.OfType<Type>().ToArray();
        }

        foreach (var type in types.Where(t => !t.ContainsGenericParameters))
        {
            var members = type.GetFields(flags).Where(f => typeof(TaskDefinition).IsAssignableFrom(f.FieldType) && !f.IsDefined(typeof(CompilerGeneratedAttribute))).Cast<MemberInfo>()
                .Concat(type.GetProperties(flags).Where(p => typeof(TaskDefinition).IsAssignableFrom(p.PropertyType) && p.GetMethod is not null && p.GetIndexParameters().Length == 0))
                .ToList();
            foreach (var member in members)
            {
                try
                {
                    if ((member is FieldInfo f ? f.GetValue(null) : ((PropertyInfo)member).GetValue(null)) is TaskDefinition task)
                    {
                        result.Add(task);
                    }
                }
                catch (Exception ex) when (ex is TypeInitializationException or TargetInvocationException)
                {
                    // A type whose initializer fails contributes no task; a call naming one of its tasks gets the 404 listing what is known.
                }
            }
        }

        return result;
    }
}
