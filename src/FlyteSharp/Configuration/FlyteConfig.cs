using System.Collections;
using Tomlyn;
using Tomlyn.Model;

namespace FlyteSharp.Configuration;

/// <summary>
/// FlyteSharp's settings: where things are stored, which registry and base images to use.
/// Loaded from a TOML file (see <see cref="Load"/>) with environment-variable overrides; every
/// value has a production default, so an empty configuration works.
/// </summary>
public sealed record FlyteConfig
{
    /// <summary>Name of the project-level config file searched for from the working directory upwards.</summary>
    public const string ProjectFileName = "flytesharp.toml";

    /// <summary>FlyteSharp's home: the default store, run database and caches live here.</summary>
    public string Home { get; init; } = DefaultHome();

    /// <summary>The config file these settings came from, if any.</summary>
    public string? SourceFile { get; init; }

    /// <summary>The code bundle's root directory (absolute), if configured.</summary>
    public string? RootDir { get; init; }

    /// <summary>Registry host (and optional path prefix) that image URIs start with, e.g. <c>localhost:5000</c>.</summary>
    public string Registry { get; init; } = "localhost:5000";

    /// <summary>Default repository name of images, e.g. <c>flytesharp</c>.</summary>
    public string ImageName { get; init; } = "flytesharp";

    /// <summary>Base image for Python environments; <c>{python}</c> is replaced by the Python version.</summary>
    public string PythonBaseImage { get; init; } = "python:{python}-slim-bookworm";

    /// <summary>Base image for .NET environments (<c>Image.FromDotnetBase</c>); <c>{version}</c> is replaced by the .NET version.</summary>
    public string DotnetBaseImage { get; init; } = "mcr.microsoft.com/dotnet/runtime:{version}";

    /// <summary>
    /// The folder holding FlyteSharp's .NET worker that .NET images carry (<c>flytesharp-worker.dll</c> with FlyteSharp and its
    /// dependencies), or null for the <c>flytesharp-worker/</c> folder next to FlyteSharp.dll that a build of a project
    /// referencing FlyteSharp gets.
    /// </summary>
    public string? DotnetWorkerDirectory { get; init; }

    /// <summary>Image the uv binary is copied from.</summary>
    public string UvImage { get; init; } = "ghcr.io/astral-sh/uv:0.9.5";

    /// <summary>Image builder: <c>auto</c>, <c>podman</c> or <c>docker</c>.</summary>
    public ImageBuilderKind Builder { get; init; } = ImageBuilderKind.Auto;

    /// <summary>Registries reached over plain HTTP (no TLS), e.g. a local test registry.</summary>
    public IReadOnlyList<string> InsecureRegistries { get; init; } = ["localhost:5000", "127.0.0.1:5000"];

    /// <summary>Blob store URI for code bundles and run data (<c>file://…</c> or <c>oci://host/repo</c>).</summary>
    public string? StoreUri { get; init; }

    /// <summary>Path of the SQLite run database.</summary>
    public string? RunDatabase { get; init; }

    /// <summary>Base URL that run URLs start with (what <c>flytesharp serve</c> answers on).</summary>
    public string ConsoleUrl { get; init; } = "http://localhost:8177";

    /// <summary>Python interpreter for local Python tasks when the project has no <c>.venv</c>.</summary>
    public string Python { get; init; } = "python3";

    /// <summary>Maximum number of child actions running at once within one run.</summary>
    public int MaxConcurrency { get; init; } = 32;

    /// <summary>How deep task calls may nest inside one run before the run fails with a clear error.</summary>
    public int MaxDepth { get; init; } = 32;

    /// <summary>
    /// How long the sandbox of a run whose process is gone (killed, crashed) is kept for inspection before a sweep
    /// deletes it (<c>[runs] sandbox_max_age</c>, e.g. <c>"1h"</c>; <c>"0"</c> deletes at the next sweep).
    /// </summary>
    public TimeSpan SandboxMaxAge { get; init; } = TimeSpan.FromHours(1);

    /// <summary>
    /// Task outputs (and inputs) whose JSON is larger than this many bytes are stored as content-addressed blobs in
    /// the store (<see cref="EffectiveStoreUri"/>) and referenced from the run store, not kept inline in its rows.
    /// </summary>
    public long InlineOutputLimit { get; init; } = 1024 * 1024;

    /// <summary>Where Python task actions run: <c>local</c> (a local python3 process, default), <c>container</c> or <c>kubernetes</c>.</summary>
    public ExecutionMode Mode { get; init; } = ExecutionMode.Local;

    /// <summary>
    /// Kubernetes namespace the pods of <c>kubernetes</c> mode are created in; null uses the kubeconfig context's
    /// namespace, else <c>default</c>.
    /// </summary>
    public string? KubernetesNamespace { get; init; }

    /// <summary>
    /// Kubeconfig file for <c>kubernetes</c> mode; null uses the client's defaults: <c>$KUBECONFIG</c> or
    /// <c>~/.kube/config</c>, or the pod's service account when running inside a cluster.
    /// </summary>
    public string? KubeConfig { get; init; }

    /// <summary>Kubeconfig context for <c>kubernetes</c> mode; null uses the file's current context.</summary>
    public string? KubernetesContext { get; init; }

    /// <summary>
    /// Where the driver's controller API listens in <c>kubernetes</c> mode (<c>[kubernetes] controller_listen</c>,
    /// <c>ip:port</c>; port 0 picks a free one). Pods call it for nested task calls, with the run's bearer token.
    /// </summary>
    public string ControllerListen { get; init; } = "127.0.0.1:0";

    /// <summary>
    /// The URL Pods reach the controller API at (<c>[kubernetes] controller_url</c>, e.g. <c>http://driver.example:7443</c>;
    /// <c>{port}</c> is replaced by the port listened on); null: <c>http://</c> plus <see cref="ControllerListen"/>'s address and port.
    /// </summary>
    public string? ControllerUrl { get; init; }

    /// <summary>
    /// The folder secrets are read from as files (<c>{dir}/{key}</c> or <c>{dir}/{group}/{key}</c>) when no
    /// <c>FLYTESHARP_SECRET_*</c> environment variable holds them; null means <c>{Home}/secrets</c>.
    /// </summary>
    public string? SecretsDirectory { get; init; }

    /// <summary>The secrets folder in effect: <see cref="SecretsDirectory"/> or <c>{Home}/secrets</c>.</summary>
    public string EffectiveSecretsDirectory => SecretsDirectory ?? Path.Combine(Home, "secrets");

    /// <summary>The store URI in effect: <see cref="StoreUri"/> or <c>file://{Home}/store</c>.</summary>
    public string EffectiveStoreUri => StoreUri ?? new Uri(Path.Combine(Home, "store")).AbsoluteUri;

    /// <summary>The run database in effect: <see cref="RunDatabase"/> or <c>{Home}/runs.db</c>.</summary>
    public string EffectiveRunDatabase => RunDatabase ?? Path.Combine(Home, "runs.db");

    /// <summary>
    /// Loads settings. The file is, in order: <paramref name="path"/>; <c>$FLYTESHARP_CONFIG</c>;
    /// the nearest <c>flytesharp.toml</c> from <paramref name="workingDirectory"/> upwards;
    /// <c>{home}/config.toml</c>. Then <c>FLYTESHARP_*</c> environment variables override single values.
    /// </summary>
    /// <param name="path">An explicit config file; it must exist.</param>
    /// <param name="workingDirectory">Where the upward search starts (default: the current directory).</param>
    /// <param name="environment">Environment variables (default: the process environment).</param>
    public static FlyteConfig Load(string? path = null, string? workingDirectory = null, IDictionary<string, string?>? environment = null)
    {
        var env = environment ?? ReadProcessEnvironment();
        string? Env(string name) => env.TryGetValue(name, out var v) && !string.IsNullOrWhiteSpace(v) ? v : null;

        var home = Env("FLYTESHARP_HOME") is { } h ? Path.GetFullPath(h) : DefaultHome();
        var file = path ?? Env("FLYTESHARP_CONFIG");
        if (file is not null && !System.IO.File.Exists(file))
        {
            throw new FlyteSharpException("config file not found", Path.GetFullPath(file),
                fix: "create it, or point --config / FLYTESHARP_CONFIG at an existing file");
        }

        file ??= FindProjectFile(workingDirectory ?? Directory.GetCurrentDirectory());
        if (file is null && System.IO.File.Exists(Path.Combine(home, "config.toml")))
        {
            file = Path.Combine(home, "config.toml");
        }

        var config = file is null ? new FlyteConfig { Home = home } : Parse(Path.GetFullPath(file), home);
        return config with
        {
            Home = Env("FLYTESHARP_HOME") is null ? config.Home : home,
            Registry = Env("FLYTESHARP_REGISTRY") ?? config.Registry,
            ImageName = Env("FLYTESHARP_IMAGE_NAME") ?? config.ImageName,
            PythonBaseImage = Env("FLYTESHARP_PYTHON_BASE_IMAGE") ?? config.PythonBaseImage,
            DotnetBaseImage = Env("FLYTESHARP_DOTNET_BASE_IMAGE") ?? config.DotnetBaseImage,
            DotnetWorkerDirectory = Env("FLYTESHARP_DOTNET_WORKER") is { } worker ? Path.GetFullPath(worker) : config.DotnetWorkerDirectory,
            UvImage = Env("FLYTESHARP_UV_IMAGE") ?? config.UvImage,
            Builder = Env("FLYTESHARP_BUILDER") is { } builder ? ParseEnum<ImageBuilderKind>(builder, "FLYTESHARP_BUILDER") : config.Builder,
            StoreUri = Env("FLYTESHARP_STORE") ?? config.StoreUri,
            RunDatabase = Env("FLYTESHARP_RUN_DB") ?? config.RunDatabase,
            ConsoleUrl = Env("FLYTESHARP_CONSOLE_URL") ?? config.ConsoleUrl,
            Python = Env("FLYTESHARP_PYTHON") ?? config.Python,
            Mode = Env("FLYTESHARP_MODE") is { } mode ? ParseEnum<ExecutionMode>(mode, "FLYTESHARP_MODE") : config.Mode,
            SandboxMaxAge = Env("FLYTESHARP_SANDBOX_MAX_AGE") is { } age
                ? ParseAge(age, "FLYTESHARP_SANDBOX_MAX_AGE", null)
                : config.SandboxMaxAge,
            InlineOutputLimit = Env("FLYTESHARP_INLINE_OUTPUT_LIMIT") is { } limit ? ParseInlineLimit(limit, "FLYTESHARP_INLINE_OUTPUT_LIMIT", null) : config.InlineOutputLimit,
            KubernetesNamespace = Env("FLYTESHARP_KUBERNETES_NAMESPACE") ?? config.KubernetesNamespace,
            KubeConfig = Env("FLYTESHARP_KUBECONFIG") is { } kc ? Path.GetFullPath(ExpandHome(kc)) : config.KubeConfig,
            KubernetesContext = Env("FLYTESHARP_KUBERNETES_CONTEXT") ?? config.KubernetesContext,
            ControllerListen = Env("FLYTESHARP_CONTROLLER_LISTEN") ?? config.ControllerListen,
            ControllerUrl = Env("FLYTESHARP_CONTROLLER_URL") ?? config.ControllerUrl,
            SecretsDirectory = Env("FLYTESHARP_SECRETS_DIR") is { } sd ? Path.GetFullPath(ExpandHome(sd)) : config.SecretsDirectory,
        };
    }

    /// <summary>
    /// Parses an age like <c>90s</c>, <c>30m</c>, <c>6h</c>, <c>7d</c> (or <c>0</c>), as <c>sandbox_max_age</c> is written.
    /// </summary>
    /// <param name="text">The age.</param>
    /// <param name="name">The setting or option it came from, for the error message.</param>
    /// <param name="file">The file it came from, if any, for the error message.</param>
    /// <exception cref="FlyteSharpException">The text is not of that form.</exception>
    public static TimeSpan ParseAge(string text, string name, string? file)
    {
        var t = text.Trim();
        if (t == "0")
        {
            return TimeSpan.Zero;
        }

        if (t.Length >= 2 && long.TryParse(t.AsSpan(0, t.Length - 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n)
            && n <= 100_000)
        {
            switch (t[^1])
            {
                case 's': return TimeSpan.FromSeconds(n);
                case 'm': return TimeSpan.FromMinutes(n);
                case 'h': return TimeSpan.FromHours(n);
                case 'd': return TimeSpan.FromDays(n);
            }
        }

        throw new FlyteSharpException($"{name} must be an age like \"90s\", \"30m\", \"6h\" or \"7d\", not '{text}'", file,
            fix: "write a whole number followed by s, m, h or d (or \"0\" to delete at the next sweep)");
    }
    private static long ParseInlineLimit(string text, string name, string? file) =>
        long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value)
            ? CheckInlineLimit(value, name, file)
            : throw new FlyteSharpException($"{name} must be a number of bytes, not '{text}'", file, fix: $"set {name} to e.g. 1048576 (1 MiB), or unset it");

    private static long CheckInlineLimit(long value, string name, string? file) =>
        value >= 1024
            ? value
            : throw new FlyteSharpException($"{name} must be at least 1024 bytes, not {value}", file, fix: $"set {name} to e.g. 1048576 (1 MiB), or remove it");

    private static string ExpandHome(string path) =>
        path == "~" || path.StartsWith("~/", StringComparison.Ordinal)
            ? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), path.Length > 2 ? path[2..] : "")
            : path;

    private static string DefaultHome() =>
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".flytesharp");

    private static Dictionary<string, string?> ReadProcessEnvironment()
    {
        var result = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (DictionaryEntry e in Environment.GetEnvironmentVariables())
        {
            result[(string)e.Key] = e.Value as string;
        }

        return result;
    }

    private static string? FindProjectFile(string start)
    {
        for (var dir = new DirectoryInfo(Path.GetFullPath(start)); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, ProjectFileName);
            if (System.IO.File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    private static FlyteConfig Parse(string file, string home)
    {
        var document = TomlDocument.Load(file, "flytesharp.toml");

        var dir = Path.GetDirectoryName(file)!;
        var reader = new TableReader(document.Root, document, "");
        var images = reader.Table("images");
        var storage = reader.Table("storage");
        var runs = reader.Table("runs");
        var kubernetes = reader.Table("kubernetes");
        var secrets = reader.Table("secrets");
        var defaults = new FlyteConfig();
        var configHome = reader.String("home") is { } hh ? Path.GetFullPath(Path.Combine(dir, hh)) : home;

        var config = new FlyteConfig
        {
            SourceFile = file,
            Home = configHome,
            RootDir = reader.String("root_dir") is { } r ? Path.GetFullPath(Path.Combine(dir, r)) : null,
            Registry = images.String("registry") ?? defaults.Registry,
            ImageName = images.String("name") ?? defaults.ImageName,
            PythonBaseImage = images.String("python_base") ?? defaults.PythonBaseImage,
            DotnetBaseImage = images.String("dotnet_base") ?? defaults.DotnetBaseImage,
            DotnetWorkerDirectory = images.String("dotnet_worker") is { } w ? Path.GetFullPath(Path.Combine(dir, w)) : null,
            UvImage = images.String("uv_image") ?? defaults.UvImage,
            Builder = images.Enum<ImageBuilderKind>("builder") ?? defaults.Builder,
            InsecureRegistries = images.StringList("insecure_registries") ?? defaults.InsecureRegistries,
            StoreUri = storage.String("uri"),
            RunDatabase = runs.String("database") is { } db ? Path.GetFullPath(Path.Combine(dir, db)) : null,
            ConsoleUrl = runs.String("console_url") ?? defaults.ConsoleUrl,
            Python = runs.String("python") ?? defaults.Python,
            MaxConcurrency = (int?)runs.Integer("max_concurrency") ?? defaults.MaxConcurrency,
            MaxDepth = (int?)runs.Integer("max_depth") ?? defaults.MaxDepth,
            Mode = runs.Enum<ExecutionMode>("mode") ?? defaults.Mode,
            SandboxMaxAge = runs.String("sandbox_max_age") is { } age ? ParseAge(age, "runs.sandbox_max_age", file) : defaults.SandboxMaxAge,
            InlineOutputLimit = runs.Integer("inline_output_limit") is { } inline ? CheckInlineLimit(inline, "runs.inline_output_limit", file) : defaults.InlineOutputLimit,
            KubernetesNamespace = kubernetes.String("namespace"),
            KubeConfig = kubernetes.String("kubeconfig") is { } kc ? Path.GetFullPath(Path.Combine(dir, ExpandHome(kc))) : null,
            KubernetesContext = kubernetes.String("context"),
            ControllerListen = kubernetes.String("controller_listen") ?? defaults.ControllerListen,
            ControllerUrl = kubernetes.String("controller_url"),
            SecretsDirectory = secrets.String("directory") is { } sdir ? Path.GetFullPath(Path.Combine(dir, ExpandHome(sdir))) : null,
        };
        if (config.MaxConcurrency < 1)
        {
            throw new FlyteSharpException("runs.max_concurrency must be at least 1", file, fix: "set it to a positive number, e.g. 32");
        }

        if (config.MaxDepth < 1)
        {
            throw new FlyteSharpException("runs.max_depth must be at least 1", file, fix: "set it to a positive number, e.g. 32");
        }

        return config;
    }

    private static T ParseEnum<T>(string text, string variable)
        where T : struct, Enum =>
        EnumNames.TryParse<T>(text, out var value)
            ? value
            : throw new FlyteSharpException($"{variable} must be {EnumNames.Allowed<T>()}, not '{text}'",
                fix: $"set {variable}={EnumNames.Name(default(T))}, or unset it");

    /// <summary>Typed access to a TOML table with errors that name the file and key.</summary>
    private readonly struct TableReader(TomlTable? table, TomlDocument document, string path)
    {
        public TableReader Table(string key) => Get(key) switch
        {
            null => new TableReader(null, document, path + key + "."),
            TomlTable t => new TableReader(t, document, path + key + "."),
            _ => throw Wrong(key, "a table"),
        };

        /// <summary>A closed set written as one of its lower-case names; anything else names the file, the line and the allowed values.</summary>
        public T? Enum<T>(string key)
            where T : struct, System.Enum
        {
            if (String(key) is not { } text)
            {
                return null;
            }

            if (EnumNames.TryParse<T>(text, out var value))
            {
                return value;
            }

            throw new FlyteSharpException($"{path}{key} must be {EnumNames.Allowed<T>()}, not '{text}'", document.File, Line(key),
                $"set {key} = \"{EnumNames.Name(default(T))}\" (or remove the key)");
        }

        public string? String(string key) => Get(key) switch
        {
            null => null,
            string s => s,
            _ => throw Wrong(key, "a string"),
        };

        public long? Integer(string key) => Get(key) switch
        {
            null => null,
            long l => l,
            _ => throw Wrong(key, "an integer"),
        };

        public List<string>? StringList(string key) => Get(key) switch
        {
            null => null,
            TomlArray a when a.All(x => x is string) => a.Cast<string>().ToList(),
            _ => throw Wrong(key, "an array of strings"),
        };

        private object? Get(string key) => table is not null && table.TryGetValue(key, out var v) ? v : null;

        private int? Line(string key) => table is null ? null : document.LineOf(table, key);

        private FlyteSharpException Wrong(string key, string expected) =>
            new($"'{key}' must be {expected}", document.File, Line(key), fix: $"change '{key}' to {expected}; see docs/configuration.md");
    }
}
