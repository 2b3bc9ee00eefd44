namespace FlyteSharp.Runner;

/// <summary>
/// Where FlyteSharp's .NET worker and what it loads live inside a .NET image, and the worker's command line: the C#
/// counterpart of <see cref="PythonRunnerScript"/>, shared by the image layer that copies the worker in, the executors
/// that start it, and the worker itself. Its replies follow <see cref="RunnerProtocol"/> (one protocol, two runners).
/// </summary>
internal static class DotnetWorkerCommand
{
    /// <summary>The worker's folder in a .NET image (its entry assembly with FlyteSharp and FlyteSharp's dependencies).</summary>
    public const string ImageDirectory = "/opt/flytesharp/worker";

    /// <summary>The worker's entry assembly's file name (the build output of <c>src/FlyteSharp.Worker</c>).</summary>
    public const string EntryFileName = "flytesharp-worker.dll";

    /// <summary>The worker's entry assembly in a .NET image.</summary>
    public const string EntryPath = ImageDirectory + "/" + EntryFileName;

    /// <summary>The folder next to FlyteSharp.dll in a build output that holds the worker's files (an MSBuild target puts them there).</summary>
    public const string HostFolderName = "flytesharp-worker";

    /// <summary>The image's NuGet dependency layer: the runtime assets of the project's packages, laid out as <c>dotnet publish</c> lays them out.</summary>
    public const string PackagesDirectory = "/opt/flytesharp/packages";

    /// <summary>The dependency layer's list of packages: <c>{"packages": [{"name", "version", "files": [...]}]}</c>.</summary>
    public const string PackagesManifestFileName = "flytesharp-packages.json";

    /// <summary>The user's own assemblies baked into an image (a full build), loaded when a call has no bundle.</summary>
    public const string AppDirectory = "/opt/flytesharp/app";

    /// <summary>Where the worker unpacks a .NET code bundle inside a container or pod.</summary>
    public const string BundleDirectory = "/tmp/flytesharp/dotnet-bundle";

    /// <summary>Where a reusable container's worker unpacks the .NET bundle of <paramref name="digest"/> (one folder per digest, so a reload never unpacks over code in use).</summary>
    public static string ServeBundleDirectory(string digest) => "/tmp/flytesharp/dotnet-bundles/" + digest.Replace("sha256:", "", StringComparison.Ordinal);

    /// <summary>The .NET host inside the image (on PATH in .NET images).</summary>
    public const string DotnetExecutable = "dotnet";

    /// <summary>Exit code for a command line the worker cannot use.</summary>
    public const int UsageExitCode = 2;

    /// <summary>The worker's command line.</summary>
    /// <param name="bundleSource">Where the worker fetches the .NET bundle from (a path or http(s) URL), or null to load <see cref="AppDirectory"/>.</param>
    /// <param name="digest">The bundle's digest (required with <paramref name="bundleSource"/>).</param>
    /// <param name="assemblyFile">The entry assembly's file name inside the bundle, e.g. <c>App.dll</c>.</param>
    /// <param name="task">The task's name, resolved like <c>flytesharp run</c> resolves it.</param>
    /// <param name="ioArguments">Where inputs come from and the reply goes (<c>--inputs F --outputs F</c> or <c>--inputs-env N --result-stdout</c>), plus any controller arguments.</param>
    /// <param name="bundleAuthFile">Where the container has the private store's credentials file (read-only), or null: sent to the registry with an http(s) bundle.</param>
    public static IReadOnlyList<string> For(string? bundleSource, string? digest, string assemblyFile, string task, IReadOnlyList<string> ioArguments, string? bundleAuthFile = null)
    {
        var args = new List<string> { DotnetExecutable, EntryPath };
        if (bundleSource is not null)
        {
            args.AddRange(["--bundle", bundleSource, "--digest", digest ?? throw new ArgumentNullException(nameof(digest)), "--bundle-dir", BundleDirectory]);
            if (bundleAuthFile is not null)
            {
                args.AddRange(["--bundle-auth-file", bundleAuthFile]);
            }
        }
        else
        {
            args.AddRange(["--app-dir", AppDirectory]);
        }

        args.AddRange(["--assembly", assemblyFile, "--task", task]);
        args.AddRange(ioArguments);
        return args;
    }

    /// <summary>
    /// The command line of a worker serving calls (<c>--serve</c>) in a reusable container, starting with
    /// <paramref name="bundleSource"/> (or the image's app folder when null); each call then names its assembly and task.
    /// </summary>
    /// <param name="bundleSource">The first .NET bundle to serve (a path or http(s) URL), or null for <see cref="AppDirectory"/>.</param>
    /// <param name="digest">Its digest (required with <paramref name="bundleSource"/>).</param>
    /// <param name="extraArguments">Secrets, the controller API, the run.</param>
    /// <param name="bundleAuthFile">Where the container has the private store's credentials file, or null.</param>
    /// <param name="serveArguments">How requests come: <c>--serve</c> (stdin, the default) or <c>--serve-pull URL --replica ID</c> (a reusable Pod).</param>
    public static IReadOnlyList<string> ForServe(string? bundleSource, string? digest, IReadOnlyList<string> extraArguments, string? bundleAuthFile = null,
        IReadOnlyList<string>? serveArguments = null)
    {
        var args = new List<string> { DotnetExecutable, EntryPath };
        args.AddRange(serveArguments ?? ["--serve"]);
        if (bundleSource is not null)
        {
            var checkedDigest = digest ?? throw new ArgumentNullException(nameof(digest));
            args.AddRange(["--bundle", bundleSource, "--digest", checkedDigest, "--bundle-dir", ServeBundleDirectory(checkedDigest)]);
            if (bundleAuthFile is not null)
            {
                args.AddRange(["--bundle-auth-file", bundleAuthFile]);
            }
        }
        else
        {
            args.AddRange(["--app-dir", AppDirectory]);
        }

        args.AddRange(extraArguments);
        return args;
    }
}
