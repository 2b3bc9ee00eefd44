using System.Text.Json;
using FlyteSharp.Cli;
using FlyteSharp.Runs;

namespace FlyteSharp.Tests.Cli;

public sealed class CliJsonTests
{
    private sealed record Sample(string BundleDigest, ActionStatus Status, CopyStyle CopyStyle);

    [Fact]
    public void Serialize_RecordWithEnums_WritesCamelCaseNamesAndEnumStringsIndented()
    {
        var json = CliJson.Serialize(new Sample("sha256:ab", ActionStatus.TimedOut, CopyStyle.None));

        var root = JsonDocument.Parse(json).RootElement;
        Assert.Equal(["bundleDigest", "status", "copyStyle"], root.EnumerateObject().Select(p => p.Name));
        Assert.Equal("timedOut", root.GetProperty("status").GetString());
        Assert.Equal("none", root.GetProperty("copyStyle").GetString());
        Assert.Contains('\n', json);
    }
}
