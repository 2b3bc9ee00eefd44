using FlyteSharp.Configuration;
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

    /// <summary>The newest lock revision (of version 1) this reader understands.</summary>
    public const long MaxRevision = 3;

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
            throw new FlyteSharpException($"unsupported uv.lock version {version} (FlyteSharp reads version 1)", file, doc.LineOf(doc.Root, "version"),
                "regenerate it with a uv release that writes version 1, or upgrade FlyteSharp");
        }

        long? revision = doc.Root.TryGetValue("revision", out var r) && r is long rev ? rev : null;
        if (revision > MaxRevision)
        {
            throw new FlyteSharpException($"uv.lock 'revision = {revision}' is newer than FlyteSharp understands (it reads revisions up to {MaxRevision} of version 1)", file, doc.LineOf(doc.Root, "revision"),
                "upgrade FlyteSharp, or re-lock with the uv release your team pins (`uv lock` writes the revision it knows)");
        }

        var packages = new List<UvLockPackage>();
        if (doc.Root.TryGetValue("package", out var p))
        {
            if (p is not TomlTableArray array)
            {
                throw new FlyteSharpException("'package' must be an array of tables ([[package]])", file, doc.LineOf(doc.Root, "package"), "regenerate it with `uv lock`");
            }

            foreach (var table in array)
            {
                var name = table.TryGetValue("name", out var n) && n is string s ? s : null;
                if (name is null)
                {
                    throw new FlyteSharpException("a [[package]] entry has no name", file, doc.LineOf(table) ?? doc.LineOf(doc.Root, "package"), "regenerate it with `uv lock`");
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

                var metadata = table.TryGetValue("metadata", out var md) && md is TomlTable mt ? mt : null;
                var requiresDist = Requirements(metadata, "requires-dist");
                var requiresDev = new Dictionary<string, IReadOnlyList<UvLockRequirement>>(StringComparer.Ordinal);
                if (metadata is not null && metadata.TryGetValue("requires-dev", out var rd) && rd is TomlTable devTable)
                {
                    foreach (var (group, _) in devTable)
                    {
                        requiresDev[UvProject.NormalizeName(group)] = Requirements(devTable, group);
                    }
                }

                packages.Add(new UvLockPackage(name, pkgVersion, kind, value)
                {
                    HasMetadata = metadata is not null,
                    RequiresDist = requiresDist,
                    RequiresDev = requiresDev,
                });
            }
        }

        return new UvLock(file, version, revision,
            doc.Root.TryGetValue("requires-python", out var rp) && rp is string rps ? rps : null,
            packages);
    }

    private static List<UvLockRequirement> Requirements(TomlTable? table, string key)
    {
        if (table is null || !table.TryGetValue(key, out var v) || v is not TomlArray array)
        {
            return [];
        }

        return array.OfType<TomlTable>().Select(t => new UvLockRequirement(
            t.TryGetValue("name", out var n) && n is string ns ? ns : "",
            t.TryGetValue("specifier", out var sp) && sp is string sps ? sps : null,
            t.TryGetValue("extras", out var ex) && ex is TomlArray exa ? exa.OfType<string>().ToList() : [],
            t.TryGetValue("marker", out var m) && m is string ms ? ms : null,
            t.TryGetValue("url", out var u) && u is string us ? us : null)).ToList();
    }
}
