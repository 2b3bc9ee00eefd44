using System.Globalization;
using FlyteSharp.Registry;

namespace FlyteSharp.Execution.Containers;

/// <summary>
/// The command line that starts <c>flytesharp_runner.py</c> inside an image, shared by the container and the
/// Kubernetes executors: the image's interpreter and runner, then where the code comes from (the bundle fetched and
/// verified at start, or the code a full build copied in), then the call or describe arguments.
/// </summary>
internal static class RunnerCommand
{
    /// <summary>Where the runner unpacks the bundle inside a container or pod.</summary>
    public const string BundleDirectory = "/tmp/flytesharp/bundle";

    /// <summary>Where a container finds the registry credentials for a private store's bundle (mounted read-only).</summary>
    public const string BundleAuthFile = "/flytesharp/auth/registry.json";

    /// <summary>The runner's command line in <paramref name="image"/>.</summary>
    /// <param name="image">The image (its interpreter, runner path and baked-in code directory).</param>
    /// <param name="bundle">Where the runner fetches the bundle from, or null when the code is in the image.</param>
    /// <param name="digest">The bundle's digest (required with <paramref name="bundle"/>).</param>
    /// <param name="runnerArguments">The call (<c>--task …</c>) or describe (<c>--describe …</c>) arguments.</param>
    /// <param name="withAuthFile">The container has registry credentials at <see cref="BundleAuthFile"/>.</param>
    public static IReadOnlyList<string> For(ContainerImage image, ContainerBundleSource? bundle, string? digest, IReadOnlyList<string> runnerArguments, bool withAuthFile = false)
    {
        var args = new List<string> { image.PythonExecutable, image.RunnerPath };
        if (bundle is not null)
        {
            args.AddRange(["--bundle", bundle.Source, "--digest", digest ?? throw new ArgumentNullException(nameof(digest)), "--bundle-dir", BundleDirectory]);
            if (bundle.Source.StartsWith("http://", StringComparison.Ordinal) || bundle.Source.StartsWith("https://", StringComparison.Ordinal))
            {
                // The registry client's retry policy, so a download in a container fails or waits exactly like one on the host.
                args.AddRange(["--fetch-attempts", RegistryRetry.MaxAttempts.ToString(CultureInfo.InvariantCulture),
                    "--fetch-backoff", RegistryRetry.InitialBackoff.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)]);
                if (withAuthFile)
                {
                    args.AddRange(["--bundle-auth-file", BundleAuthFile]);
                }
            }
        }
        else
        {
            args.AddRange(["--bundle-dir", image.CodeDirectory ?? "/root"]);
        }

        args.AddRange(Python.PythonImportPaths.Arguments(image.ImportPaths));
        args.AddRange(runnerArguments);
        return args;
    }
}
