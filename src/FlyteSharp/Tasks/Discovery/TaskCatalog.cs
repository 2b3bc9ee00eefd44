using System.Reflection;
using System.Runtime.CompilerServices;

namespace FlyteSharp.Tasks.Discovery;

/// <summary>
/// The task environments and tasks an assembly declares as static fields and properties (like module-level globals in
/// Python), and the one resolution of a task name. The CLI (a project it built) and the .NET worker (the assemblies of
/// a code bundle) both find tasks through this, so a name that picks a task on the laptop picks the same one in a container.
/// </summary>
public sealed class TaskCatalog
{
    private readonly Type[] _types;
    private IReadOnlyList<TaskDefinition>? _tasks;

    /// <summary>Reads the assembly's task environments; <paramref name="types"/> limits the search (tests), default all types.</summary>
    /// <param name="assembly">The assembly.</param>
    /// <param name="source">What messages name as the file (the .csproj, or the assembly's path).</param>
    /// <param name="types">The types to look at, or null for all of the assembly's.</param>
    /// <exception cref="FlyteSharpException">Types cannot be loaded, a static initializer throws, or two environments share a name.</exception>
    public TaskCatalog(Assembly assembly, string source, IEnumerable<Type>? types = null)
    {
        ArgumentNullException.ThrowIfNull(assembly);
        Assembly = assembly;
        Source = source;
        Type[] all;
        try
        {
            all = types?.ToArray() ?? assembly.GetTypes();
        }
        catch (ReflectionTypeLoadException ex)
        {
            var first = ex.LoaderExceptions.FirstOrDefault(e => e is not null);
            throw new FlyteSharpException($"cannot load the types of {assembly.GetName().Name}: {first?.Message}", source,
                fix: "make sure the project targets the same FlyteSharp version as the tool and rebuild it", inner: ex);
        }

        _types = [.. all.Where(t => !t.IsGenericTypeDefinition).OrderBy(t => t.FullName, StringComparer.Ordinal)];
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

                throw new FlyteSharpException($"two task environments are named '{member.Value.Name}': {first.DisplayName} and {member.DisplayName}", source,
                    fix: "give each TaskEnvironment a unique name");
            }

            names[member.Value.Name] = member;
            environments.Add(member.Value);
        }

        Environments = environments;
    }

    /// <summary>The assembly searched.</summary>
    public Assembly Assembly { get; }

    /// <summary>What messages name as the file.</summary>
    public string Source { get; }

    /// <summary>Every distinct task environment the assembly defines, in type/member order.</summary>
    public IReadOnlyList<TaskEnvironment> Environments { get; }

    /// <summary>
    /// Every distinct task the assembly defines as a static field or property, in type/member order. Reading them runs
    /// the initializers of the types that declare them, which is what registers each task with its environment
    /// (<see cref="TaskEnvironment.Tasks"/>): loading the environments alone leaves those lists empty.
    /// </summary>
    public IReadOnlyList<TaskDefinition> LoadTasks() => _tasks ??= [.. NamedStaticMembersOf<TaskDefinition>().Select(m => m.Value).Distinct()];

    /// <summary>The values of all static fields/properties of type <typeparamref name="T"/> (null values skipped).</summary>
    public IEnumerable<T> StaticMembersOf<T>() where T : class => NamedStaticMembersOf<T>().Select(m => m.Value);

    /// <summary>
    /// Like <see cref="StaticMembersOf{T}"/> with the member each value came from. A type's static initializer runs
    /// only if it declares such a member; its exceptions are reported with the type and member name.
    /// </summary>
    internal IReadOnlyList<StaticMember<T>> NamedStaticMembersOf<T>() where T : class
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

    /// <summary>
    /// The task <paramref name="name"/> designates: its full name (etl_pipeline, module:function), else its member
    /// name (EtlPipeline) or Python function name (load_data), else its member as Type.Member or Namespace.Type.Member.
    /// </summary>
    /// <exception cref="FlyteSharpException">No task, or several, answer to the name; the fix lists names that pick exactly one.</exception>
    public TaskDefinition FindTask(string name)
    {
        var members = NamedStaticMembersOf<TaskDefinition>().DistinctBy(m => m.Value).ToList();
        var matches = members.Where(m => m.Value.Name == name).ToList();
        if (matches.Count == 0)
        {
            matches = members.Where(m => m.Member.Name == name || m.Value.Python?.Function == name).ToList();
        }

        if (matches.Count == 0)
        {
            matches = members.Where(m => IsMember(m, name)).ToList();
        }

        return matches.Count switch
        {
            1 => matches[0].Value,
            0 => throw new FlyteSharpException($"{Describe()} defines no task named '{name}'", Source,
                fix: members.Count == 0
                    ? "define tasks as static fields or properties, e.g. public static readonly FlyteTask<int, int> Double = Envs.Etl.Task(\"double\", async (int x) => x * 2);"
                    : $"use one of: {string.Join(", ", members.Select(m => m.Value.Name).Distinct().Order(StringComparer.Ordinal))}"),
            _ => throw new FlyteSharpException($"'{name}' matches several tasks: {string.Join(", ", matches.Select(m => m.DisplayName))}", Source,
                fix: $"name the one you mean: {string.Join(" or ", matches.Select(m => UniqueSelector(members, m)))}"),
        };
    }

    private string Describe() => Source.EndsWith(".csproj", StringComparison.OrdinalIgnoreCase) ? "the project" : $"assembly {Assembly.GetName().Name}";

    // The shortest name FindTask resolves to exactly this member: its full name unless another task shares it
    // (the same function declared twice, e.g. with different options), then its member name, then Type.Member.
    private static string UniqueSelector(List<StaticMember<TaskDefinition>> members, StaticMember<TaskDefinition> member)
    {
        if (members.Count(m => m.Value.Name == member.Value.Name) == 1)
        {
            return member.Value.Name;
        }

        var memberName = member.Member.Name;
        if (members.All(m => m.Value.Name != memberName) && members.Count(m => m.Member.Name == memberName || m.Value.Python?.Function == memberName) == 1)
        {
            return memberName;
        }

        var typeMember = $"{member.Member.DeclaringType?.Name}.{memberName}";
        bool Answers(StaticMember<TaskDefinition> m, string n) => m.Value.Name == n || m.Member.Name == n || m.Value.Python?.Function == n;
        return !members.Any(m => Answers(m, typeMember)) && members.Count(m => IsMember(m, typeMember)) == 1
            ? typeMember
            : member.DisplayName;
    }

    // Namespace.Type.Member, Type.Member or Outer+Nested.Member (a nested type's full name joins with '+').
    private static bool IsMember(StaticMember<TaskDefinition> member, string name) =>
        member.DisplayName == name
        || member.DisplayName.EndsWith("." + name, StringComparison.Ordinal)
        || member.DisplayName.EndsWith("+" + name, StringComparison.Ordinal);

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
            throw new FlyteSharpException($"initializing {where} threw {inner.GetType().Name}: {inner.Message}", Source,
                fix: stale
                    ? "the project's build does not match this FlyteSharp (it was compiled against another version): rebuild it — run without --no-build, or `dotnet build` the project"
                    : $"fix the static initializer of {type.FullName}",
                inner: inner);
        }
    }
}
