using FlyteSharp.Files;

namespace FlyteSharp.Tests.Files;

public class FileWalkerTests
{
    private static readonly WalkPolicy Policy = new(".ignore", SkipGit: true, FollowDirectoryLinks: false,
        DirectoryLinkRefusal: "{0}", OutsideLinkRefusal: "{0}", OutsideLinkFix: "", LinkPathIsTarget: false);

    [Fact]
    public void Walk_NamesThatSortAroundTheSeparator_ComeOutInOrdinalPathOrder()
    {
        // '-' and '.' sort before '/', '0' and 'B' after it: a directory "a" must be emitted as "a/", between "a.txt" and "a0".
        string[] paths = ["a/x.py", "a.txt", "a-b/y.py", "a0", "ab", "B", "a/b/c", "a/b.txt", "a/b-c/d", "z/z/z/z", "Z", "a/", "é.py", "~"];
        using var t = new TempTree();
        foreach (var path in paths.Where(p => !p.EndsWith('/')))
        {
            t.Write(path);
        }

        var walked = FileWalker.Walk(t.Root, new IgnoreFilter(GitIgnore.ForFiles()), Policy).ConvertAll(f => f.RelativePath);

        var expected = paths.Where(p => !p.EndsWith('/')).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(expected, walked);
    }
}
