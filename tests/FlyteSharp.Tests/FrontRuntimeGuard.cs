using System.Runtime.CompilerServices;

namespace FlyteSharp.Tests;

/// <summary>
/// Tests run on their own runtimes (RunFixture.Runtime and friends). A test that reaches the static front by mistake
/// would otherwise run against the machine's default home; here the front's runtime points at a run database that
/// cannot exist, so such a test fails loudly. FlyteTests sets and restores the front on purpose.
/// </summary>
internal static class FrontRuntimeGuard
{
    public const string Database = "/dev/null/flytesharp-tests-must-use-their-own-runtime/runs.db";

    [ModuleInitializer]
    internal static void PoisonTheFront() =>
        Flyte.Runtime = new FlyteRuntime(new FlyteSharp.Configuration.FlyteConfig { RunDatabase = Database, Home = Path.Combine(Path.GetTempPath(), "flytesharp-tests-front") });
}
