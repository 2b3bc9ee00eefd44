using System.Reflection;
using System.Runtime.Loader;

namespace FlyteSharp.Cli.Projects;

/// <summary>
/// Loads a user's project from its build output. Assemblies the host already has (FlyteSharp itself and
/// its dependencies) are shared, so <c>TaskEnvironment</c> in the project is the host's type; everything
/// else resolves from the project's output folder through its <c>.deps.json</c>.
/// </summary>
internal sealed class ProjectLoadContext(string mainAssemblyPath)
    : AssemblyLoadContext($"flytesharp-project:{Path.GetFileNameWithoutExtension(mainAssemblyPath)}")
{
    private static readonly Assembly FlyteSharpAssembly = typeof(FlyteSharpException).Assembly;
    private readonly AssemblyDependencyResolver _resolver = new(mainAssemblyPath);

    protected override Assembly? Load(AssemblyName assemblyName)
    {
        if (AssemblyName.ReferenceMatchesDefinition(assemblyName, FlyteSharpAssembly.GetName()) || assemblyName.Name == FlyteSharpAssembly.GetName().Name)
        {
            return FlyteSharpAssembly;
        }

        if (Default.Assemblies.FirstOrDefault(a => a.GetName().Name == assemblyName.Name) is { } shared)
        {
            return shared;
        }

        return _resolver.ResolveAssemblyToPath(assemblyName) is { } path ? LoadFromAssemblyPath(path) : null;
    }

    protected override IntPtr LoadUnmanagedDll(string unmanagedDllName) =>
        _resolver.ResolveUnmanagedDllToPath(unmanagedDllName) is { } path ? LoadUnmanagedDllFromPath(path) : IntPtr.Zero;
}
