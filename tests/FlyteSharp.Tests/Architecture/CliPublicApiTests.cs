using System.Reflection;
using System.Runtime.CompilerServices;

namespace FlyteSharp.Tests.Architecture;

/// <summary>
/// The CLI is a user of the library like any other: it goes through <see cref="FlyteRuntime"/> and the public API, never
/// an internal type or member (FlyteSharp gives it no <c>InternalsVisibleTo</c>). A failure names each CLI type and what
/// non-public thing it uses.
/// </summary>
public class CliPublicApiTests
{
    [Fact]
    public void CliAssembly_UsesOnlyThePublicApi()
    {
        var cli = typeof(FlyteSharp.Cli.FlyteCli).Assembly.Location;

        var uses = NonPublicUses.Find(cli, "FlyteSharp");

        Assert.True(uses.Count == 0, $"{uses.Count} use(s) of FlyteSharp internals in the CLI:\n" + string.Join("\n", uses));
    }

    [Fact]
    public void FlyteSharpAssembly_ShowsItsInternalsOnlyToTestsAndBenchmarks()
    {
        // The CLI and the worker exe use the public API; only code that checks or times internals may see them.
        var friends = typeof(Flyte).Assembly.GetCustomAttributes<InternalsVisibleToAttribute>().Select(a => a.AssemblyName).Order(StringComparer.Ordinal);

        Assert.Equal(["FlyteSharp.Benchmarks", "FlyteSharp.IntegrationTests", "FlyteSharp.Tests"], friends);
    }

    [Fact]
    public void Find_DeliberatelyBadTypeSet_NamesTheInternalTypeAndMember()
    {
        var uses = NonPublicUses.Find(typeof(CliPublicApiTests).Assembly.Location, "FlyteSharp", "FlyteSharp.Tests.Architecture.BadCliUse");

        Assert.Equal(
            [
                "FlyteSharp.Tests.Architecture.BadCliUse.UsesInternals → FlyteSharp.Content.Digests (non-public type)",
                "FlyteSharp.Tests.Architecture.BadCliUse.UsesInternals → FlyteSharp.Content.Digests::Hex (non-public method)",
                "FlyteSharp.Tests.Architecture.BadCliUse.UsesInternals → FlyteSharp.FlyteRuntime::CallOutsideRunAsync (non-public method)",
            ],
            uses);
    }

    [Fact]
    public void Find_PublicUsesOnly_FindsNothing()
    {
        var uses = NonPublicUses.Find(typeof(CliPublicApiTests).Assembly.Location, "FlyteSharp", "FlyteSharp.Tests.Architecture.GoodCliUse");

        Assert.Empty(uses);
    }
}
