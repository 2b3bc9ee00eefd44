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

    /// <summary>
    /// Serve requests pulled from the driver's controller API at this URL instead (a reusable Pod): <c>--serve-pull URL
    /// --replica ID --controller-token-file FILE</c>, the Python runner's pull arguments. Implies <see cref="Serve"/>.
    /// </summary>
    public string? ServePull { get; init; }

    /// <summary>This replica's id at <see cref="ServePull"/>.</summary>
    public string? Replica { get; init; }

    /// <summary>How long the driver may stay unreachable before a pulling worker stops (<c>--pull-give-up SECONDS</c>).</summary>
    public TimeSpan PullGiveUp { get; init; } = TimeSpan.FromSeconds(300);

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

        var pull = values.GetValueOrDefault("--serve-pull");
        if (pull is not null)
        {
            if (serve)
            {
                throw new FlyteSharpException("--serve and --serve-pull are two ways to serve; pass one", fix: "leave --serve out (--serve-pull serves)");
            }

            if (!Uri.TryCreate(pull, UriKind.Absolute, out var pullUri) || pullUri.Scheme is not ("http" or "https"))
            {
                throw new FlyteSharpException($"--serve-pull '{pull}' is not an http(s) URL", fix: "pass the driver's controller URL as pods reach it, e.g. http://driver.example:7443");
            }

            if (!values.ContainsKey("--replica") || !values.ContainsKey("--controller-token-file"))
            {
                throw new FlyteSharpException("--serve-pull needs --replica and --controller-token-file", fix: "pass --serve-pull URL --replica ID --controller-token-file FILE");
            }

            serve = true;
        }
        else if (values.ContainsKey("--replica") || values.ContainsKey("--pull-give-up"))
        {
            throw new FlyteSharpException("--replica and --pull-give-up are for --serve-pull", fix: "pass --serve-pull URL too, or leave them out");
        }

        var giveUp = 300.0;
        if (values.TryGetValue("--pull-give-up", out var giveUpText)
            && (!double.TryParse(giveUpText, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out giveUp) || !double.IsFinite(giveUp) || giveUp <= 0 || giveUp > 86_400))
        {
            throw new FlyteSharpException($"--pull-give-up '{giveUpText}' is not a number of seconds between 0 and 86400", fix: "pass e.g. --pull-give-up 300");
        }

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
            ServePull = pull,
            Replica = values.GetValueOrDefault("--replica"),
            PullGiveUp = TimeSpan.FromSeconds(giveUp),
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
        "--serve-pull", "--replica", "--pull-give-up",
    };
}
