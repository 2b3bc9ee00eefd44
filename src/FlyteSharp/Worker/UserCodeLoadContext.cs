using System.Reflection;
using System.Runtime.Loader;

namespace FlyteSharp.Worker;

/// <summary>
/// Loads the user's assemblies in the worker, isolated from the worker's own: FlyteSharp (and whatever the worker has
/// already loaded) is shared, so a task in the bundle is the worker's <c>TaskDefinition</c>; the user's own assemblies
/// come from the bundle (or the image's app folder); NuGet packages from the image's dependency layer; everything
/// else (the framework, FlyteSharp's dependencies) from the worker's default context. An assembly found with a lower
/// version than the bundle was compiled against is refused with both versions named (see <see cref="Conflicts"/>).
/// Collectible: a reusable container that is given another bundle loads it into a fresh context and unloads this one.
/// </summary>
internal sealed class UserCodeLoadContext(string codeDirectory, ImagePackages packages) : AssemblyLoadContext("flytesharp-user-code", isCollectible: true)
{
    private static readonly Assembly FlyteSharpAssembly = typeof(FlyteSharpException).Assembly;

    /// <summary>The folder the user's assemblies come from (the unpacked bundle or the image's app folder).</summary>
    public string CodeDirectory => codeDirectory;

    /// <summary>Requests that found an assembly older than the reference asked for: (requested, found file, found version).</summary>
    public List<(AssemblyName Requested, string File, Version? Found)> Conflicts { get; } = [];

    /// <summary>Requests nothing here could answer (the default context may still have them).</summary>
    public List<AssemblyName> Unresolved { get; } = [];

    protected override Assembly? Load(AssemblyName assemblyName)
    {
        if (assemblyName.Name == FlyteSharpAssembly.GetName().Name)
        {
            return FlyteSharpAssembly;
        }

        if (Default.Assemblies.FirstOrDefault(a => a.GetName().Name == assemblyName.Name) is { } shared)
        {
            return shared;
        }

        var file = assemblyName.Name + ".dll";
        var culture = string.IsNullOrEmpty(assemblyName.CultureName) ? "" : assemblyName.CultureName;
        foreach (var directory in new[] { codeDirectory, packages.Directory })
        {
            var path = Path.Combine(directory, culture, file);
            if (!File.Exists(path))
            {
                continue;
            }

            var found = AssemblyName.GetAssemblyName(path).Version;
            if (assemblyName.Version is { } wanted && found is not null && found < wanted)
            {
                lock (Conflicts)
                {
                    Conflicts.Add((assemblyName, path, found));
                }

                return null;
            }

            return LoadFromAssemblyPath(path);
        }

        lock (Unresolved)
        {
            Unresolved.Add(assemblyName);
        }

        return null;
    }

    protected override IntPtr LoadUnmanagedDll(string unmanagedDllName)
    {
        var rid = System.Runtime.InteropServices.RuntimeInformation.RuntimeIdentifier;
        var names = new[] { unmanagedDllName, $"lib{unmanagedDllName}.so", unmanagedDllName + ".so" };
        foreach (var directory in new[] { codeDirectory, packages.Directory, Path.Combine(packages.Directory, "runtimes", rid, "native") })
        {
            foreach (var name in names)
            {
                var path = Path.Combine(directory, name);
                if (File.Exists(path))
                {
                    return LoadUnmanagedDllFromPath(path);
                }
            }
        }

        return IntPtr.Zero;
    }
}
