using System.Reflection;
using System.Runtime.CompilerServices;
using FlyteSharp.Tasks;

namespace FlyteSharp.Cli.Projects;

/// <summary>
/// A user's C# project, built and loaded: its assembly and the values of its static fields and properties
/// (like module-level globals in Python). Used by every command that works on a project.
/// </summary>
internal sealed class LoadedProject
{
    private readonly Type[] _types;
    private IReadOnlyList<TaskDefinition>? _tasks;

    /// <summary>Reads the project's task environments; <paramref name="types"/> limits the search (tests), default all types.</summary>
    internal LoadedProject(string projectFile, Assembly assembly, IEnumerable<Type>? types = null)
    {
        ProjectFile = projectFile;
        Assembly = assembly;
        try
        {
            _types = types?.ToArray() ?? assembly.GetTypes();
        }
        catch (ReflectionTypeLoadException ex)
        {
            var first = ex.LoaderExceptions.FirstOrDefault(e => e is not null);
            throw new FlyteSharpException($"cannot load the types of {assembly.GetName().Name}: {first?.Message}", projectFile,
                fix: "make sure the project targets the same FlyteSharp version as the tool and rebuild it", inner: ex);
        }

        _types = [.. _types.Where(t => !t.IsGenericTypeDefinition).OrderBy(t => t.FullName, StringComparer.Ordinal)];
        var environments = new List<TaskEnvironment>();
        var names = new Dictionary<string, StaticMember<TaskEnvironment>>(StringComparer.Ordinal);
        foreach (var member in NamedStaticMembersOf<TaskEnvironment>())
        {
            if (names.TryGetValue(member.Value.Name, out var first))
            {
                if (ReferenceEquals(first.Value, member.Value))
                {
                    continue; // the same environment exposed twice
                }

                throw new FlyteSharpException($"two task environments are named '{member.Value.Name}': {first.DisplayName} and {member.DisplayName}", projectFile,
                    fix: "give each TaskEnvironment a unique name");
            }

            names[member.Value.Name] = member;
            environments.Add(member.Value);
        }

        Environments = environments;
    }

    /// <summary>Full path of the <c>.csproj</c>.</summary>
    public string ProjectFile { get; }

    /// <summary>The folder of the <c>.csproj</c>.</summary>
    public string ProjectDirectory => Path.GetDirectoryName(ProjectFile)!;

    /// <summary>The project's output assembly.</summary>
    public Assembly Assembly { get; }

    /// <summary>Every distinct task environment the project defines, in type/member order.</summary>
    public IReadOnlyList<TaskEnvironment> Environments { get; }

    /// <summary>
    /// Every distinct task the project defines as a static field or property, in type/member order. Reading them runs
    /// the initializers of the types that declare them, which is what registers each task with its environment
    /// (<see cref="TaskEnvironment.Tasks"/>): loading the environments alone leaves those lists empty.
    /// </summary>
    public IReadOnlyList<TaskDefinition> LoadTasks() => _tasks ??= [.. NamedStaticMembersOf<TaskDefinition>().Select(m => m.Value).Distinct()];

    /// <summary>The environment called <paramref name="name"/>.</summary>
    /// <exception cref="FlyteSharpException">No such environment.</exception>
    public TaskEnvironment Environment(string name) =>
        Environments.FirstOrDefault(e => e.Name == name)
        ?? throw new FlyteSharpException($"the project defines no task environment named '{name}'", ProjectFile,
            fix: Environments.Count == 0 ? "define one as a static field, e.g. public static readonly TaskEnvironment Etl = new(\"etl\", image);"
                : $"use one of: {string.Join(", ", Environments.Select(e => e.Name))}");

    /// <summary>The values of all static fields/properties of type <typeparamref name="T"/> (null values skipped).</summary>
    public IEnumerable<T> StaticMembersOf<T>() where T : class => NamedStaticMembersOf<T>().Select(m => m.Value);

    /// <summary>
    /// Like <see cref="StaticMembersOf{T}"/> with the member each value came from. A type's static initializer runs
    /// only if it declares such a member; its exceptions are reported with the type and member name.
    /// </summary>
    public IReadOnlyList<StaticMember<T>> NamedStaticMembersOf<T>() where T : class
    {
        var result = new List<StaticMember<T>>();
        const BindingFlags flags = BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.DeclaredOnly;
        foreach (var type in _types)
        {
            var members = type.GetFields(flags).Where(f => typeof(T).IsAssignableFrom(f.FieldType) && !f.IsDefined(typeof(CompilerGeneratedAttribute))).Cast<MemberInfo>()
                .Concat(type.GetProperties(flags).Where(p => typeof(T).IsAssignableFrom(p.PropertyType) && p.GetMethod is not null && p.GetIndexParameters().Length == 0))
                .OrderBy(m => m.MetadataToken)
                .ToList();
            if (members.Count == 0)
            {
                continue;
            }

            Guard(type, members[0], () => RuntimeHelpers.RunClassConstructor(type.TypeHandle));
            foreach (var member in members)
            {
                object? value = null;
                Guard(type, member, () => value = member is FieldInfo f ? f.GetValue(null) : ((PropertyInfo)member).GetValue(null));
                if (value is T typed)
                {
                    result.Add(new StaticMember<T>(member, typed));
                }
            }
        }

        return result;
    }

    private void Guard(Type type, MemberInfo member, Action action)
    {
        try
        {
            action();
        }
        catch (Exception ex) when (ex is TypeInitializationException or TargetInvocationException)
        {
            var inner = ex;
            while (inner is TypeInitializationException or TargetInvocationException && inner.InnerException is not null)
            {
                inner = inner.InnerException;
            }

            var where = $"{type.FullName}.{member.Name}";
            if (inner is FlyteSharpException fe)
            {
                throw new FlyteSharpException($"{fe.Reason} (while initializing {where})", fe.File, fe.Line, fe.Fix, fe);
            }

            // A member, type or assembly of FlyteSharp the project's build was compiled against is not there: the build
            // is older (or newer) than this FlyteSharp, and nothing in the initializer's code is wrong.
            var stale = inner is MissingMemberException or TypeLoadException or FileNotFoundException or FileLoadException;
            throw new FlyteSharpException($"initializing {where} threw {inner.GetType().Name}: {inner.Message}", ProjectFile,
                fix: stale
                    ? "the project's build does not match this FlyteSharp (it was compiled against another version): rebuild it — run without --no-build, or `dotnet build` the project"
                    : $"fix the static initializer of {type.FullName}",
                inner: inner);
        }
    }
}
