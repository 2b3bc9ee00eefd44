using FlyteSharp.Content;
using FlyteSharp.Tasks;

namespace FlyteSharp.Tests.Architecture.BadCliUse;

/// <summary>A deliberately bad type for <see cref="CliPublicApiTests"/>: an internal type, its method, and an internal member of a public type.</summary>
internal static class UsesInternals
{
    public static string DigestHex(string digest) => Digests.Hex(digest);

    public static Task<object?> CallOutsideRun(FlyteRuntime runtime, TaskDefinition task) => runtime.CallOutsideRunAsync(task, []);
}
