using FlyteSharp.Runner;

namespace FlyteSharp.Worker;

/// <summary>The .NET worker's command line (see <see cref="DotnetWorkerCommand"/> for the paths it defaults to).</summary>
internal sealed record WorkerArguments
{
    /// <summary>Where the .NET bundle comes from: a path (a read-only mounted store) or an http(s) URL; null to load <see cref="AppDirectory"/>.</summary>
    public string? Bundle { get; init; }

    /// <summary>The bundle's <c>sha256:…</c> digest, checked before anything is unpacked.</summary>
    public string? Digest { get; init; }

    /// <summary>
    /// A read-only mounted JSON file <c>{"authorization": "&lt;header value&gt;"}</c> whose value is sent to the registry
    /// when <see cref="Bundle"/> is an http(s) URL (a private store); never the credential itself on the command line.
    /// </summary>
    public string? BundleAuthFile { get; init; }

    /// <summary>Where the bundle is unpacked.</summary>
    public string BundleDirectory { get; init; } = DotnetWorkerCommand.BundleDirectory;

    /// <summary>The user's assemblies baked into the image, used when there is no bundle.</summary>
    public string AppDirectory { get; init; } = DotnetWorkerCommand.AppDirectory;

    /// <summary>The image's NuGet dependency layer.</summary>
    public string PackagesDirectory { get; init; } = DotnetWorkerCommand.PackagesDirectory;

    /// <summary>The entry assembly's file name, e.g. <c>App.dll</c> (empty in serve mode: each call names its own).</summary>
    public required string Assembly { get; init; }

    /// <summary>The task's name (empty in serve mode: each call names its own).</summary>
    public required string Task { get; init; }

    /// <summary>Serve JSON-lines requests on stdin (a reusable container) instead of running one call.</summary>
    public bool Serve { get; init; }

    /// <summary>A JSON file holding the inputs object.</summary>
    public string? InputsFile { get; init; }

    /// <summary>An environment variable holding the inputs object (pods).</summary>
    public string? InputsVariable { get; init; }

    /// <summary>Where the reply is written.</summary>
    public string? OutputsFile { get; init; }

    /// <summary>Also print the reply as the marked result line on stdout (pods).</summary>
    public bool ResultOnStdout { get; init; }

    /// <summary>Secrets delivered as environment variables: (variable, mounted file).</summary>
    public IReadOnlyList<(string Variable, string File)> SecretVariables { get; init; } = [];

    /// <summary>The driver's controller API address (<c>unix:/path</c> or <c>http://host:port</c>), for nested task calls.</summary>
    public string? Controller { get; init; }

    /// <summary>A file holding the run's controller token (never passed on the command line).</summary>
    public string? ControllerTokenFile { get; init; }

    /// <summary>The run's name.</summary>
    public string Run { get; init; } = "";

    /// <summary>The action's id.</summary>
    public string Action { get; init; } = "";

    /// <summary>The action's task environment's name.</summary>
    public string Environment { get; init; } = "";

    /// <summary>Parses <paramref name="args"/>.</summary>
    /// <exception cref="FlyteSharpException">An unknown option, a missing value, or a missing required option.</exception>
    public static WorkerArguments Parse(IReadOnlyList<string> args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var secrets = new List<(string, string)>();
        var resultOnStdout = false;
        var serve = false;
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            if (name == "--result-stdout")
            {
                resultOnStdout = true;
                continue;
            }

            if (name == "--serve")
            {
                serve = true;
                continue;
            }

            if (!Known.Contains(name))
            {
                throw new FlyteSharpException($"unknown worker option '{name}'", fix: "see DotnetWorkerCommand for the worker's command line");
            }

            if (i + 1 >= args.Count)
            {
                throw new FlyteSharpException($"worker option {name} needs a value", fix: $"pass {name} VALUE");
            }

            var value = args[++i];
            if (name == "--secret-env")
            {
                var eq = value.IndexOf('=');
                if (eq <= 0)
                {
                    throw new FlyteSharpException($"--secret-env '{value}' is not NAME=PATH", fix: "pass --secret-env NAME=/path/of/mounted/file");
                }

                secrets.Add((value[..eq], value[(eq + 1)..]));
                continue;
            }

            values[name] = value;
        }

        string Required(string option) => values.GetValueOrDefault(option)
            ?? throw new FlyteSharpException($"the worker needs {option}", fix: $"pass {option} VALUE");

        if (values.ContainsKey("--bundle") != values.ContainsKey("--digest"))
        {
            throw new FlyteSharpException("the worker needs --bundle and --digest together", fix: "pass both, or neither to load the image's app folder");
        }

        if (values.ContainsKey("--bundle-auth-file") && !values.ContainsKey("--bundle"))
        {
            throw new FlyteSharpException("--bundle-auth-file is for downloading a --bundle from a private store, but there is no --bundle", fix: "pass it with --bundle URL, or leave it out");
        }

        if (serve)
        {
            foreach (var single in new[] { "--assembly", "--task", "--inputs", "--inputs-env", "--outputs", "--action" })
            {
                if (values.ContainsKey(single))
                {
                    throw new FlyteSharpException($"worker option {single} is for a single call; with --serve each request names its own", fix: $"leave {single} out, or drop --serve");
                }
            }

            if (resultOnStdout)
            {
                throw new FlyteSharpException("--result-stdout is for a single call; with --serve each reply is a line on stdout", fix: "leave --result-stdout out, or drop --serve");
            }
        }
        else if (!values.ContainsKey("--inputs") && !values.ContainsKey("--inputs-env"))
        {
            throw new FlyteSharpException("the worker needs --inputs FILE or --inputs-env NAME", fix: "pass one of them");
        }

        if (!serve && !values.ContainsKey("--outputs") && !resultOnStdout)
        {
            throw new FlyteSharpException("the worker needs --outputs FILE or --result-stdout", fix: "pass one of them");
        }

        var defaults = new WorkerArguments { Assembly = "", Task = "" };
        return new WorkerArguments
        {
            Bundle = values.GetValueOrDefault("--bundle"),
            Digest = values.GetValueOrDefault("--digest"),
            BundleAuthFile = values.GetValueOrDefault("--bundle-auth-file"),
            BundleDirectory = values.GetValueOrDefault("--bundle-dir") ?? defaults.BundleDirectory,
            AppDirectory = values.GetValueOrDefault("--app-dir") ?? defaults.AppDirectory,
            PackagesDirectory = values.GetValueOrDefault("--packages-dir") ?? defaults.PackagesDirectory,
            Assembly = serve ? "" : Required("--assembly"),
            Task = serve ? "" : Required("--task"),
            Serve = serve,
            InputsFile = values.GetValueOrDefault("--inputs"),
            InputsVariable = values.GetValueOrDefault("--inputs-env"),
            OutputsFile = values.GetValueOrDefault("--outputs"),
            ResultOnStdout = resultOnStdout,
            SecretVariables = secrets,
            Controller = values.GetValueOrDefault("--controller"),
            ControllerTokenFile = values.GetValueOrDefault("--controller-token-file"),
            Run = values.GetValueOrDefault("--run") ?? "",
            Action = values.GetValueOrDefault("--action") ?? "",
            Environment = values.GetValueOrDefault("--environment") ?? "",
        };
    }

    private static readonly HashSet<string> Known = new(StringComparer.Ordinal)
    {
        "--bundle", "--digest", "--bundle-auth-file", "--bundle-dir", "--app-dir", "--packages-dir", "--assembly", "--task", "--inputs", "--inputs-env", "--outputs",
        "--secret-env", "--controller", "--controller-token-file", "--run", "--action", "--environment",
    };
}
