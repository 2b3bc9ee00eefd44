using System.Diagnostics;
using FlyteSharp.Files;

namespace FlyteSharp.Tests.Files;

/// <summary>
/// One table for both ignore dialects of the shared engine: each row writes the path as a real file, walks the tree with
/// the rules through <see cref="FileWalker"/>, and for gitignore rows asks real git which untracked files it keeps.
/// </summary>
public class IgnoreDialectTests
{
    private const string Git = "gitignore";
    private const string Docker = "dockerignore";

    public static TheoryData<string, string, string, bool> Rows => new()
    {
        // gitignore: a slash-free name matches at any depth; a leading or inner slash anchors; "/" at the end is directories only.
        { Git, "*.pyc", "a/b/c.pyc", false },
        { Git, "*.pyc", "c.py", true },
        { Git, "*.tmp", "dir/a.tmp", false },
        { Git, "data", "x/data/y.csv", false },
        { Git, "build/", "build/out.txt", false },
        { Git, "build/", "build", true },
        { Git, "/build", "sub/build", true },
        { Git, "/build", "build", false },
        { Git, "docs/*.md", "docs/a.md", false },
        { Git, "docs/*.md", "docs/sub/a.md", true },
        { Git, "docs/*.md", "sub/docs/a.md", true },
        { Git, "**/logs", "a/b/logs/x.txt", false },
        { Git, "logs/**", "logs/a/b.txt", false },
        { Git, "a/**/b.txt", "a/x/y/b.txt", false },
        { Git, "a/**/b.txt", "a/b.txt", false },
        { Git, "a**b.txt", "a/x/b.txt", true }, // "**" inside a segment is "*"
        { Git, "a**b.txt", "axyb.txt", false },
        { Git, "*.md\n!README.md", "x/README.md", true },
        { Git, "*.md\n!README.md", "CHANGES.md", false },
        { Git, "!keep.txt\n*.txt", "keep.txt", false },
        { Git, "logs/\n!logs/important.log", "logs/important.log", false },
        { Git, "[!a].py", "b.py", false },
        { Git, "[!a].py", "a.py", true },
        { Git, "[a-c]?.txt", "b1.txt", false },
        { Git, "\\#notes", "#notes", false },
        { Git, "name\\ ", "name ", false },
        { Git, "name   ", "name", false },

        // dockerignore: every pattern is anchored at the root; "**" spans segments anywhere; a matched directory takes its contents.
        { Docker, "*.tmp", "a.tmp", false },
        { Docker, "*.tmp", "dir/a.tmp", true },
        { Docker, "**/*.tmp", "dir/sub/a.tmp", false },
        { Docker, "data", "data/x/y.csv", false },
        { Docker, "data", "x/data/y.csv", true },
        { Docker, "/data", "data/y.csv", false },
        { Docker, "build/", "build", false }, // no directory-only rules: the pattern is cleaned to "build"
        { Docker, "docs/?.md", "docs/a.md", false },
        { Docker, "docs/?.md", "docs/ab.md", true },
        { Docker, "a**b.txt", "a/x/b.txt", false },
        { Docker, "**/logs", "a/b/logs/x.txt", false },
        { Docker, "*.md\n!README.md", "README.md", true },
        { Docker, "*.md\n!README.md", "CHANGES.md", false },
        { Docker, "!keep.txt\n*.txt", "keep.txt", false },
        { Docker, "[ab].py", "a.py", false },
        { Docker, "[ab].py", "c.py", true },
        { Docker, "./src/../lib", "lib/a.py", false },
        { Docker, "  spaced  ", "spaced", false },
        { Docker, "! keep.md\n*.md", "keep.md", false },
    };

    [Theory]
    [MemberData(nameof(Rows))]
    public void Walk_Pattern_KeepsWhatTheDialectKeeps(string dialect, string patterns, string path, bool kept)
    {
        using var t = new TempTree();
        t.Write(path);
        var lines = patterns.Split('\n');
        IIgnore ignore = dialect == Git ? GitIgnore.FromLines(lines, "(test)") : DockerIgnore.Parse(lines);

        var walked = FileWalker.Walk(t.Root, new IgnoreFilter(ignore), Policy).ConvertAll(f => f.RelativePath);

        Assert.Equal(kept, walked.Contains(path));
    }

    [Theory]
    [MemberData(nameof(Rows))]
    public void Walk_GitignorePattern_AgreesWithGit(string dialect, string patterns, string path, bool kept)
    {
        if (dialect != Git)
        {
            return; // git has no dockerignore mode; those rows are checked against the table above
        }

        using var t = new TempTree();
        t.Write(path);
        t.Write(".gitignore", patterns + "\n");
        RunGit(t.Root, "init", "-q");

        var untracked = RunGit(t.Root, "-c", "core.excludesFile=/dev/null", "ls-files", "-z", "--others", "--exclude-standard").Split('\0');

        Assert.Equal(kept, untracked.Contains(path));
    }

    [Fact]
    public void GitIgnoreFromLines_ThroughNestedFiles_DeeperFileWinsAndAnchorsToItsDirectory()
    {
        using var t = new TempTree();
        t.Write(".gitignore", "*.csv\n");
        t.Write("sub/.gitignore", "!keep.csv\n/top.txt\n");
        t.Write("sub/keep.csv");
        t.Write("sub/other.csv");
        t.Write("sub/top.txt");
        t.Write("sub/deeper/top.txt");

        var walked = FileWalker.Walk(t.Root, new IgnoreFilter(GitIgnore.ForFiles(".gitignore")), Policy).ConvertAll(f => f.RelativePath);

        Assert.Equal([".gitignore", "sub/.gitignore", "sub/deeper/top.txt", "sub/keep.csv"], walked);
    }

    [Fact]
    public void IgnoreGroup_LaterMemberNegation_ReincludesWhatStandardRulesExclude()
    {
        var group = new IgnoreGroup(new StandardIgnore([".env", "*.log"], IgnoreDialect.Gitignore), GitIgnore.FromLines(["!.env"], "/p/.flyteignore"));

        Assert.Equal(IgnoreVerdict.Reincluded, group.Match("cfg/.env", isDirectory: false));
        Assert.Equal("/p/.flyteignore:1", group.Winner("cfg/.env", isDirectory: false)!.Location);
        Assert.Equal(IgnoreVerdict.Ignored, group.Match("run.log", isDirectory: false));
        Assert.Equal(IgnoreVerdict.None, group.Match("main.py", isDirectory: false));
    }

    [Theory]
    [InlineData(Git)]
    [InlineData(Docker)]
    public void ParseLines_UnterminatedClass_ThrowsWithFileAndLine(string dialect)
    {
        var ex = Assert.Throws<FlyteSharpException>(() => IgnoreRule.ParseLines(["ok", "# comment", "src/[abc"], dialect == Git ? IgnoreDialect.Gitignore : IgnoreDialect.Dockerignore, "/p/.ignore"));

        Assert.Equal(3, ex.Line);
        Assert.Equal("/p/.ignore", ex.File);
        Assert.Contains("src/[abc", ex.Message, StringComparison.Ordinal);
    }

    private static readonly WalkPolicy Policy = new(".ignore", SkipGit: true, FollowDirectoryLinks: false,
        DirectoryLinkRefusal: "{0}", OutsideLinkRefusal: "{0}", OutsideLinkFix: "", LinkPathIsTarget: false);

    private static string RunGit(string directory, params string[] args)
    {
        var start = new ProcessStartInfo("git") { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"git {string.Join(' ', args)} failed: {error}");
        return output;
    }
}
