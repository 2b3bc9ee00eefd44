using FlyteSharp.Files;

namespace FlyteSharp.Tests.Files;

/// <summary>
/// The rule index must pick exactly the rule a scan from the last rule to the first picks: rules of every kind it buckets
/// (basename literals, <c>*suffix</c>, <c>prefix*</c>) and the ones it does not, interleaved so precedence crosses buckets.
/// </summary>
public class IgnoreRuleSetTests
{
    private static readonly string[] Paths =
    [
        "a.pyc", "src/a.pyc", "keep.pyc", "src/keep.pyc", "build", "src/build", "build/out.o", ".env", "src/.env", ".env.local",
        "id_rsa", "id_rsa.pub", "deep/.docker/config.json", ".docker/config.json", "docs/a.md", "docs/sub/a.md", "x.key", "key",
        "README.md", "sub/README.md", "c", ".c", "logs", "logs/x.log", "a/b/c/d.txt", "id_x", "x.id",
    ];

    public static TheoryData<string, string> RuleSets => new()
    {
        { "gitignore", "*.pyc\n!keep.pyc\nbuild/\n.env*\n!.env\nid_*\n!id_rsa.pub\n*.md\n!README.md\n/docs/*.md\nlogs\n!*.log\nc\n*c" },
        { "gitignore", "!keep.pyc\n*.pyc\nid_rsa*\n!id_*\n*.pub\nbuild\n!build/\n**/config.json\n!.docker/config.json\n[a-c]\n?.c" },
        { "dockerignore", "**/*.pyc\n!**/keep.pyc\n**/build\n**/.env\n**/.env.*\n**/id_rsa*\n!id_rsa.pub\n**/.docker/config.json\n!deep\ndocs/**\n!docs/a.md\n**/c\n**/*c" },
        { "dockerignore", "*\n!src\n!**/*.pyc\nsrc/keep.pyc\n**/key\n**/*.key\n!x.key\n**/README.md\n!sub/README.md\nlogs/*.log\n!logs" },
    };

    [Theory]
    [MemberData(nameof(RuleSets))]
    public void LastMatch_EveryPathAndKind_PicksTheRuleAReverseScanPicks(string dialect, string lines)
    {
        var rules = IgnoreRule.ParseLines(lines.Split('\n'), dialect == "gitignore" ? IgnoreDialect.Gitignore : IgnoreDialect.Dockerignore, "/p/.ignore");
        var set = new IgnoreRuleSet(rules);
        foreach (var path in Paths)
        {
            foreach (var isDirectory in new[] { false, true })
            {
                var expected = rules.LastOrDefault(r => r.Matches(path, isDirectory));
                Assert.True(ReferenceEquals(expected, set.LastMatch(path, isDirectory)),
                    $"{path} (directory: {isDirectory}): expected {expected?.Location} '{expected?.Text}', got '{set.LastMatch(path, isDirectory)?.Text}'");
            }
        }
    }

    [Fact]
    public void LastMatch_LaterLiteralAfterEarlierSuffix_LaterWins()
    {
        var rules = IgnoreRule.ParseLines(["*.log", "!debug.log", "debug*"], IgnoreDialect.Gitignore, "/p/.gitignore");
        var set = new IgnoreRuleSet(rules);

        Assert.Equal("debug*", set.LastMatch("x/debug.log", isDirectory: false)?.Text);
        Assert.Equal("*.log", set.LastMatch("x/other.log", isDirectory: false)?.Text);
        Assert.Null(set.LastMatch("x/other.txt", isDirectory: false));
    }
}
