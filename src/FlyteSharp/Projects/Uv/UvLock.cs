using Tomlyn.Model;

namespace FlyteSharp.Projects.Uv;

/// <summary>A <c>uv.lock</c> file: its format version and the packages it pins.</summary>
public sealed class UvLock
{
    private UvLock(string file, long version, long? revision, string? requiresPython, IReadOnlyList<UvLockPackage> packages)
    {
        File = file;
        Version = version;
        Revision = revision;
        RequiresPython = requiresPython;
        Packages = packages;
    }

    /// <summary>Full path of the lock file.</summary>
    public string File { get; }

    /// <summary>The lock format version (<c>version = 1</c>).</summary>
    public long Version { get; }

    /// <summary>The lock format revision, if present.</summary>
    public long? Revision { get; }

    /// <summary>The Python range the lock was resolved for.</summary>
    public string? RequiresPython { get; }

    /// <summary>Every <c>[[package]]</c> in the lock, in file order.</summary>
    public IReadOnlyList<UvLockPackage> Packages { get; }

    /// <summary>Reads and checks a lock file.</summary>
    /// <exception cref="FlyteSharpException">The file is missing, malformed, or not a uv lock.</exception>
    public static UvLock Load(string path)
    {
        var doc = TomlDocument.Load(path, "uv.lock", syntaxFix: "uv.lock is written by uv, not by hand: regenerate it with `uv lock` (next to pyproject.toml)");
        var file = doc.File;
        if (!doc.Root.TryGetValue("version", out var v) || v is not long version)
        {
            throw new FlyteSharpException("not a uv lock file: no integer 'version' at the top", file, 1,
                "regenerate it with `uv lock`");
        }

        if (version != 1)
        {
            throw new FlyteSharpException($"unsupported uv.lock version {version} (FlyteSharp reads version 1)", file, doc.LineOf("", "version"),
                "regenerate it with a uv release that writes version 1, or upgrade FlyteSharp");
        }

        var packages = new List<UvLockPackage>();
        if (doc.Root.TryGetValue("package", out var p))
        {
            if (p is not TomlTableArray array)
            {
                throw new FlyteSharpException("'package' must be an array of tables ([[package]])", file, doc.LineOf("", "package"), "regenerate it with `uv lock`");
            }

            foreach (var table in array)
            {
                var name = table.TryGetValue("name", out var n) && n is string s ? s : null;
                if (name is null)
                {
                    throw new FlyteSharpException("a [[package]] entry has no name", file, doc.LineOf("package"), "regenerate it with `uv lock`");
                }

                var pkgVersion = table.TryGetValue("version", out var pv) && pv is string vs ? vs : null;
                string? kind = null, value = null;
                if (table.TryGetValue("source", out var src) && src is TomlTable source)
                {
                    foreach (var (k, val) in source)
                    {
                        kind = k;
                        value = val?.ToString();
                        break;
                    }
                }

                packages.Add(new UvLockPackage(name, pkgVersion, kind, value));
            }
        }

        return new UvLock(file, version,
            doc.Root.TryGetValue("revision", out var r) && r is long rev ? rev : null,
            doc.Root.TryGetValue("requires-python", out var rp) && rp is string rps ? rps : null,
            packages);
    }
}

/// <summary>One locked package.</summary>
/// <param name="Name">Package name.</param>
/// <param name="Version">Pinned version (absent for some local sources).</param>
/// <param name="SourceKind">Where it comes from: <c>registry</c>, <c>editable</c>, <c>directory</c>, <c>virtual</c>, <c>git</c>, <c>url</c>, <c>path</c>.</param>
/// <param name="Source">The source's value, e.g. the index URL or a relative path.</param>
public sealed record UvLockPackage(string Name, string? Version, string? SourceKind, string? Source)
{
    /// <summary>True for packages that come from the local filesystem (editable, directory, path, virtual).</summary>
    public bool IsLocal => SourceKind is "editable" or "directory" or "path" or "virtual";
}
