using System.Reflection;
using FlyteSharp.Tasks;
using FlyteSharp.Tasks.Discovery;

namespace FlyteSharp.Cli.Projects;

/// <summary>
/// A user's C# project, built and loaded: its assembly and the task environments and tasks it declares, found by the
/// library's <see cref="TaskCatalog"/> (the engine the .NET worker uses too). Used by every command that works on a project.
/// </summary>
internal sealed class LoadedProject
{
    /// <summary>Reads the project's task environments; <paramref name="types"/> limits the search (tests), default all types.</summary>
    internal LoadedProject(string projectFile, Assembly assembly, IEnumerable<Type>? types = null)
    {
        ProjectFile = projectFile;
        Assembly = assembly;
        Catalog = new TaskCatalog(assembly, projectFile, types);
    }

    /// <summary>Full path of the <c>.csproj</c>.</summary>
    public string ProjectFile { get; }

    /// <summary>The folder of the <c>.csproj</c>.</summary>
    public string ProjectDirectory => Path.GetDirectoryName(ProjectFile)!;

    /// <summary>The project's output assembly.</summary>
    public Assembly Assembly { get; }

    /// <summary>The environments and tasks the project declares.</summary>
    public TaskCatalog Catalog { get; }

    /// <summary>Every distinct task environment the project defines, in type/member order.</summary>
    public IReadOnlyList<TaskEnvironment> Environments => Catalog.Environments;

    /// <inheritdoc cref="TaskCatalog.LoadTasks"/>
    public IReadOnlyList<TaskDefinition> LoadTasks() => Catalog.LoadTasks();

    /// <summary>The environment called <paramref name="name"/>.</summary>
    /// <exception cref="FlyteSharpException">No such environment.</exception>
    public TaskEnvironment Environment(string name) =>
        Environments.FirstOrDefault(e => e.Name == name)
        ?? throw new FlyteSharpException($"the project defines no task environment named '{name}'", ProjectFile,
            fix: Environments.Count == 0 ? "define one as a static field, e.g. public static readonly TaskEnvironment Etl = new(\"etl\", image);"
                : $"use one of: {string.Join(", ", Environments.Select(e => e.Name))}");

    /// <inheritdoc cref="TaskCatalog.StaticMembersOf{T}"/>
    public IEnumerable<T> StaticMembersOf<T>() where T : class => Catalog.StaticMembersOf<T>();
}
