using FlyteSharp.Bundles;
using FlyteSharp.Configuration;
using FlyteSharp.Tasks;

namespace FlyteSharp.Execution.Dotnet;

/// <summary>The driver's check, before any container starts, that an environment's .NET image can run the framework its task's assembly targets.</summary>
internal static class DotnetFramework
{
    /// <summary>Refuses a bundle that targets a newer .NET than the environment's <c>Image.FromDotnetBase(version)</c>.</summary>
    /// <exception cref="FlyteSharpException">The image's .NET is older than the bundle's target.</exception>
    public static void Check(TaskDefinition task, DotnetBundle bundle, FlyteConfig config)
    {
        var environment = task.Environment;
        if (environment.Image.DotnetVersion is not { } declared || !Version.TryParse(declared, out var image) || bundle.FrameworkVersion is not { } wanted)
        {
            return;
        }

        if ((wanted.Major, wanted.Minor).CompareTo((image.Major, image.Minor)) > 0)
        {
            var baseImage = Images.DotnetBaseImageLayer.BaseUri(config.DotnetBaseImage, declared);
            throw new FlyteSharpException(
                $"task '{task.Name}' is built for .NET {wanted.Major}.{wanted.Minor} ({bundle.EntryAssembly}), but environment '{environment.Name}' has .NET {declared} " +
                $"(Image.FromDotnetBase(\"{declared}\"), base image {baseImage})",
                config.SourceFile,
                fix: $"use Image.FromDotnetBase(\"{wanted.Major}.{wanted.Minor}\") with a base that has that runtime ([images] dotnet_base in flytesharp.toml, FLYTESHARP_DOTNET_BASE_IMAGE), or target net{declared}");
        }
    }
}
