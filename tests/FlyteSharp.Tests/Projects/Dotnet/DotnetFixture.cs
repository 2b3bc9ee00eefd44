namespace FlyteSharp.Tests.Projects.Dotnet;

/// <summary>
/// A private copy of tests/Fixtures/DotnetDeps (a task project using Newtonsoft.Json 13.0.3 with a packages.lock.json,
/// referencing a project without packages) in a temporary folder, so tests can edit it and compare two locations.
/// </summary>
internal sealed class DotnetFixture : IDisposable
{
    private readonly TempTree _tree;

    public DotnetFixture(string subfolder = "work/deps")
    {
        _tree = new TempTree("flytesharp-dotnet-");
        Root = _tree.Dir(subfolder);
        CopyTree(Source, Root);
    }

    /// <summary>tests/Fixtures/DotnetDeps in the checkout.</summary>
    public static string Source { get; } = Path.Combine(RepositoryRoot(), "tests", "Fixtures", "DotnetDeps");

    /// <summary>The copy's folder (holds Directory.Build.props, Tasks/ and Shapes/).</summary>
    public string Root { get; }

    /// <summary>The temporary folder the copy lives in.</summary>
    public string TempRoot => _tree.Root;

    public string TasksProject => Path.Combine(Root, "Tasks", "Tasks.csproj");

    public string PathOf(string relative) => Path.Combine(Root, relative.Replace('/', Path.DirectorySeparatorChar));

    public void Write(string relative, string content)
    {
        var path = PathOf(relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
    }

    public void Replace(string relative, string from, string to)
    {
        var text = File.ReadAllText(PathOf(relative));
        Assert.Contains(from, text);
        File.WriteAllText(PathOf(relative), text.Replace(from, to, StringComparison.Ordinal));
    }

    public void Dispose() => _tree.Dispose();

    internal static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "FlyteSharp.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"FlyteSharp.slnx not found above {AppContext.BaseDirectory}");
    }

    private static void CopyTree(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(from, file);
            if (relative.Split(Path.DirectorySeparatorChar).Any(p => p is "bin" or "obj"))
            {
                continue;
            }

            var target = Path.Combine(to, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
