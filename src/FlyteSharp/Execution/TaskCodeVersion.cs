using System.Security.Cryptography;
using FlyteSharp.Execution.Python;
using FlyteSharp.Tasks;

namespace FlyteSharp.Execution;

/// <summary>
/// The code version a cached output is keyed by, like Flyte's cache "auto" version: a pinned
/// <see cref="TaskOptions.CacheVersion"/> as given; else, for a C# task, the MVID of the assembly holding its body
/// (deterministic builds give the same MVID for the same code, so a rebuild without changes keeps the cache);
/// for a Python task, the SHA-256 of its module's bytes as the run ships them (the bundle, else an image source
/// folder). A task whose module cannot be read here falls back to the whole bundle's digest, or the deployed version.
/// </summary>
internal static class TaskCodeVersion
{
    public static string Of(TaskDefinition task, PythonRuntime? python, string? deployedVersion)
    {
        if (task.Options.CacheVersion is { } pinned)
        {
            return pinned;
        }

        if (task.Kind == TaskKind.CSharp)
        {
            var body = task.Body ?? throw new InvalidOperationException($"C# task '{task.Name}' has no body");
            return "mvid:" + body.Method.Module.ModuleVersionId.ToString("N");
        }

        if (python is not null && ModuleFile(task, python) is { } file)
        {
            return "module:sha256:" + Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(file)));
        }

        if (deployedVersion is not null)
        {
            // A deployed version's code is fixed by its version: the same version always runs the same code.
            return "deployment:" + deployedVersion;
        }

        return python?.Bundle.Digest is { Length: > 0 } digest
            ? "bundle:" + digest
            : throw new InvalidOperationException($"Python task '{task.Name}' has neither a module file nor a bundle to version its cache by");
    }

    /// <summary>
    /// The file Python imports the task's module from, bundle first: <c>a/b/__init__.py</c>, else <c>a/b.py</c>
    /// (Python's path finder takes a regular package over a module of the same name).
    /// </summary>
    private static string? ModuleFile(TaskDefinition task, PythonRuntime python)
    {
        var parts = task.Python!.Module.Split('.');
        var bases = new List<string>();
        if (python.Bundle.Digest.Length > 0)
        {
            bases.Add(Path.Combine([python.Bundle.ExtractedDirectory, .. parts]));
        }

        foreach (var (name, source) in ImageSourceFolders.Importable(task.Environment))
        {
            if (name == parts[0])
            {
                bases.Add(Path.Combine([source, .. parts[1..]]));
            }
        }

        foreach (var path in bases.SelectMany(b => new[] { Path.Combine(b, "__init__.py"), b + ".py" }))
        {
            if (File.Exists(path))
            {
                return path;
            }
        }

        return null;
    }
}
