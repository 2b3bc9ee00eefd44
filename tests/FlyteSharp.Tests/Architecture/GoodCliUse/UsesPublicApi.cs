using FlyteSharp.Configuration;

namespace FlyteSharp.Tests.Architecture.GoodCliUse;

/// <summary>A type for <see cref="CliPublicApiTests"/> that uses only FlyteSharp's public API (types, constructors, properties, methods).</summary>
internal static class UsesPublicApi
{
    public static string? RootDir(FlyteConfig config)
    {
        using var runtime = new FlyteRuntime(config);
        return runtime.RootDir ?? new FlyteSharpException("no root_dir", fix: "set one").Message;
    }
}
