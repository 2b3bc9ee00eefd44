using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text.Json;
using FlyteSharp.Bundles;
using FlyteSharp.Controller;
using FlyteSharp.Execution;
using FlyteSharp.Projects.Dotnet;
using FlyteSharp.Runner;
using FlyteSharp.Tasks;
using FlyteSharp.Tasks.Discovery;

namespace FlyteSharp.Worker;

/// <summary>
/// The worker's state across calls: the code it serves (an unpacked, verified .NET bundle or the image's app folder),
/// the user's assemblies loaded in a collectible <see cref="UserCodeLoadContext"/> (loaded on the first call of an
/// assembly, kept for the next calls, unloaded when the code changes), and the client of the driver's controller API.
/// A single call is a session with one call; a serve loop keeps one session for the container's life.
/// </summary>
internal sealed class WorkerSession : IDisposable
{
    /// <summary>
    /// Reloads an unloaded context may live through before the worker checks (with full collections) that it is gone:
    /// a collection may simply not have run yet before that.
    /// </summary>
    internal const int SurvivorReloads = 3;

    private readonly WorkerArguments _start;
    private readonly TextWriter? _log;
    private readonly List<RetiredCode> _retired = [];
    private ControllerClient? _client;
    private (string Address, string Token, ControllerClient Client)? _callClient;
    private ImagePackages? _packages;
    private LoadedCode? _loaded;
    private int _unloads;
    private bool _reportedSurvivor;

    /// <param name="start">The worker's command line (packages folder, controller address and token file).</param>
    /// <param name="log">
    /// The worker's own diagnostics (the replica's log): told once when old code stays in memory after its unloading.
    /// </param>
    public WorkerSession(WorkerArguments start, TextWriter? log = null)
    {
        _start = start;
        _log = log;
    }

    /// <summary>The folder the code is served from (empty until <see cref="UseCodeAsync"/>).</summary>
    public string CodeDirectory { get; private set; } = "";

    /// <summary>The served bundle's digest, or null for the image's app folder.</summary>
    public string? Digest { get; private set; }

    /// <summary>The load context of the assembly the last call used, while it is loaded (tests watch its unloading).</summary>
    internal UserCodeLoadContext? LoadContext => _loaded?.Context;

    /// <summary>
    /// Serves <paramref name="bundle"/> (fetched, its digest checked before anything is unpacked, unpacked into
    /// <paramref name="bundleDirectory"/>; once per digest) or, without one, <paramref name="appDirectory"/>. On a refusal
    /// nothing changes: the code served so far keeps serving.
    /// </summary>
    /// <exception cref="FlyteSharpException">The bundle could not be fetched, failed its digest, is unsafe, or there is no code.</exception>
    public async Task UseCodeAsync(string? bundle, string? digest, string bundleDirectory, string? authFile, string appDirectory, CancellationToken cancellationToken)
    {
        var directory = await PrepareCodeAsync(bundle, digest, bundleDirectory, authFile, appDirectory, cancellationToken).ConfigureAwait(false);
        if (directory != CodeDirectory)
        {
            Unload();
            WatchRetired();
        }

        CodeDirectory = directory;
        Digest = bundle is null ? null : digest;
    }

    /// <summary>Runs one call on the served code and returns its output as JSON.</summary>
    /// <exception cref="Exception">Whatever loading or running the task threw (the caller turns it into the reply).</exception>
    public async Task<string> CallAsync(WorkerCall call, CancellationToken stop)
    {
        var task = Find(call.Assembly, call.Task);
        var loaded = _loaded!;

        if (task.Kind != TaskKind.CSharp)
        {
            throw new FlyteSharpException($"task '{task.Name}' is a Python task; the .NET worker runs C# tasks", loaded.Entry, fix: "run it with the Python runner");
        }

        var inputs = await ReadInputsAsync(call, task, stop).ConfigureAwait(false);
        using var timeout = task.Options.Timeout is { } limit ? new CancellationTokenSource(limit) : new CancellationTokenSource();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stop, timeout.Token);
        var arguments = _start with { Run = call.Run, Action = call.Action };
        var withoutController = new WorkerTaskContext(arguments, task, linked.Token);
        var client = ClientFor(call);
        ITaskCallContext callContext = client is null
            ? withoutController
            : new ControllerTaskCallContext(client, call.Run, call.Action, 1, task.Environment.Name, task.Environment.EnvVars, linked.Token, withoutController.FindSecret);
        object? value;
        try
        {
            value = await InvokeAsync(callContext, task, inputs).WaitAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !stop.IsCancellationRequested)
        {
            throw new TaskTimeoutException(task.Name, task.Options.Timeout!.Value, 1);
        }
        catch (Exception ex) when (MissingAssembly(ex, loaded.Context, loaded.Deps, loaded.Packages) is { } missing)
        {
            throw missing;
        }

        return TaskJson.SerializeOutput(task, value);
    }

    /// <summary>Finds task <paramref name="name"/> in <paramref name="assemblyFile"/> of the served code (loading it if needed).</summary>
    /// <exception cref="FlyteSharpException">The assembly or the task is not there.</exception>
    public TaskDefinition Find(string assemblyFile, string name)
    {
        var loaded = Load(assemblyFile);
        try
        {
            return FindTask(loaded, name);
        }
        catch (Exception ex) when (MissingAssembly(ex, loaded.Context, loaded.Deps, loaded.Packages) is { } missing)
        {
            throw missing;
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        // The worker ends with the session: nothing to watch or free for later code.
        _loaded?.Context.Unload();
        _loaded = null;
        _client?.Dispose();
        _callClient?.Client.Dispose();
    }

    /// <summary>The controller client for <paramref name="call"/>: the worker's own (its command line), or the call's.</summary>
    private ControllerClient? ClientFor(WorkerCall call)
    {
        if (_start.Controller is { } address)
        {
            return _client ??= ControllerClient.FromTokenFile(ControllerAddress.Parse(address), _start.ControllerTokenFile ?? ControllerProtocol.ContainerTokenPath);
        }

        if (call.Controller is null || string.IsNullOrEmpty(call.ControllerToken))
        {
            return null;
        }

        if (_callClient is { } kept && kept.Address == call.Controller && kept.Token == call.ControllerToken)
        {
            return kept.Client;
        }

        _callClient?.Client.Dispose();
        _callClient = (call.Controller, call.ControllerToken, new ControllerClient(ControllerAddress.Parse(call.Controller), call.ControllerToken));
        return _callClient.Value.Client;
    }

    private static TaskDefinition FindTask(LoadedCode loaded, string name)
    {
        try
        {
            return loaded.Catalog.FindTask(name);
        }
        catch (FlyteSharpException ex) when (ex.Reason.Contains("no task named", StringComparison.Ordinal))
        {
            throw new FlyteSharpException($"task '{name}' is not in the bundle: {ex.Reason}", loaded.Entry,
                fix: "a C# task that runs outside the driver is found by name among the static fields and properties of its assembly " +
                     "(as `flytesharp run` finds it): declare it as one, e.g. public static readonly FlyteTask<int, int> Double = Env.Task(\"double\", …)" +
                     (ex.Fix is { } known && known.StartsWith("use one of", StringComparison.Ordinal) ? $"; the bundle has: {known["use one of: ".Length..]}" : ""),
                inner: ex);
        }
    }

    private LoadedCode Load(string assemblyFile)
    {
        if (_loaded is { } current && current.Directory == CodeDirectory && current.AssemblyFile == assemblyFile)
        {
            return current;
        }

        var entry = Path.Combine(CodeDirectory, assemblyFile);
        if (assemblyFile.Length == 0 || assemblyFile.Contains('/') || assemblyFile.Contains('\\') || !File.Exists(entry))
        {
            throw new FlyteSharpException($"the code has no assembly '{assemblyFile}'", CodeDirectory,
                fix: "the bundle does not hold the task's assembly: rebuild the project and run again");
        }

        var deps = DepsJson.Load(Path.ChangeExtension(entry, ".deps.json"));
        CheckFramework(deps);
        var packages = _packages ??= ImagePackages.Load(_start.PackagesDirectory);
        CheckPackageVersions(deps, packages);

        // Image definitions in the user's static initializers describe the driver's files (pyproject.toml, .csproj):
        // the container has none of them and builds no image, so reading them is skipped here.
        AppContext.SetSwitch(Images.Image.DefinitionsOnlySwitch, true);
        Unload();
        WatchRetired();
        var context = new UserCodeLoadContext(CodeDirectory, packages);
        try
        {
            var assembly = context.LoadFromAssemblyPath(entry);
            _loaded = new LoadedCode(CodeDirectory, assemblyFile, entry, context, deps, packages, new TaskCatalog(assembly, entry));
            return _loaded;
        }
        catch (Exception ex)
        {
            Retire(context);
            if (MissingAssembly(ex, context, deps, packages) is { } missing)
            {
                throw missing;
            }

            throw;
        }
    }

    // Not inlined: no frame of the caller keeps the old code's objects alive while its context is watched.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Unload()
    {
        if (_loaded is null)
        {
            return;
        }

        // Collectible: once nothing refers to the old code any more, the runtime frees it. The framework's type caches
        // (serializer metadata of its records) would refer to it forever, so they are emptied. What the code itself left
        // running (a thread, a handler on a static event) still keeps it: the next code loads into a fresh context anyway,
        // and WatchRetired says so.
        var context = _loaded.Context;
        _loaded = null;
        Retire(context);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private void Retire(UserCodeLoadContext context)
    {
        context.Unload();
        TypeCaches.Clear();
        _retired.Add(new RetiredCode(new WeakReference(context, trackResurrection: true), context.CodeDirectory, ++_unloads));
    }

    /// <summary>
    /// Checks, once per unloaded context when it has lived through <see cref="SurvivorReloads"/> further unloads, that the
    /// runtime has freed it (full collections first), and tells the log once when one is still there: a replica that
    /// serves many edits would otherwise grow by one copy of the code (and its packages) per edit without a word.
    /// </summary>
    private void WatchRetired()
    {
        _retired.RemoveAll(r => !r.Context.IsAlive);
        var due = _retired.Where(r => _unloads - r.Unload == SurvivorReloads).ToArray();
        if (due.Length == 0 || _reportedSurvivor || _log is null)
        {
            return; // nothing (more) to say: full collections would only cost time
        }

        for (var i = 0; i < 10 && due.Any(r => r.Context.IsAlive); i++)
        {
            GC.Collect();
            // Bounded: a finalizer of the user's code that never returns must not hang the worker.
            if (!Task.Run(GC.WaitForPendingFinalizers).Wait(TimeSpan.FromSeconds(2)))
            {
                break;
            }
        }

        _retired.RemoveAll(r => !r.Context.IsAlive);
        var survivor = due.FirstOrDefault(r => r.Context.IsAlive);
        if (survivor is null)
        {
            return;
        }

        _reportedSurvivor = true;
        _log.WriteLine(
            $"flytesharp-worker: warning: the code loaded from {survivor.Directory} is still in memory {SurvivorReloads} reloads after it was unloaded " +
            "(said once per worker): something outside it still refers to it, such as a thread or timer it started that is still running, " +
            "or a handler it added to a static event of the framework or of a package; every such reload keeps one more copy of the code in this replica; " +
            "fix: stop such threads and timers before the task returns and remove such handlers; a new replica starts without them");
        _log.Flush();
    }

    private static async Task<string> PrepareCodeAsync(string? bundle, string? digest, string bundleDirectory, string? authFile, string appDirectory, CancellationToken cancellationToken)
    {
        if (bundle is null)
        {
            if (!Directory.Exists(appDirectory))
            {
                throw new FlyteSharpException("the call has no .NET bundle and the image has no app folder", appDirectory,
                    fix: "pass --bundle and --digest, or build the image with the project installed (a full-build deploy)");
            }

            return appDirectory;
        }

        if (digest is null)
        {
            throw new FlyteSharpException($"the .NET bundle {bundle} comes without its digest", fix: "pass the bundle's sha256 digest with it");
        }

        var archive = bundle;
        string? downloaded = null;
        try
        {
            if (archive.StartsWith("http://", StringComparison.Ordinal) || archive.StartsWith("https://", StringComparison.Ordinal))
            {
                downloaded = Path.Combine(Path.GetTempPath(), "flytesharp-dotnet-bundle-" + Guid.NewGuid().ToString("N") + ".tar.gz");
                await BundleDownload.ToFileAsync(archive, authFile, downloaded, cancellationToken).ConfigureAwait(false);
                archive = downloaded;
            }

            await BundleExtractor.ExtractAsync(archive, digest, bundleDirectory, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (downloaded is not null)
            {
                File.Delete(downloaded);
            }
        }

        return bundleDirectory;
    }

    /// <summary>One loaded entry assembly and what its checks and errors need.</summary>
    private sealed record LoadedCode(string Directory, string AssemblyFile, string Entry, UserCodeLoadContext Context, DepsJson Deps, ImagePackages Packages, TaskCatalog Catalog);

    /// <summary>An unloaded context (weakly held, so the watch does not keep it), where it was loaded from and after which unload.</summary>
    private sealed record RetiredCode(WeakReference Context, string Directory, int Unload);

    private static async Task<object?> InvokeAsync(ITaskCallContext context, TaskDefinition task, object?[] inputs)
    {
        // Set inside this async method: the body's flow sees the context, the worker's does not.
        TaskCalls.Current = context;
        return await task.InvokeBodyAsync(inputs).ConfigureAwait(false);
    }

    private static async Task<object?[]> ReadInputsAsync(WorkerCall call, TaskDefinition task, CancellationToken cancellationToken)
    {
        var text = call.InputsJson
            ?? (call.InputsVariable is { } variable
                ? Environment.GetEnvironmentVariable(variable) ?? throw new FlyteSharpException($"environment variable {variable} with the inputs is not set", fix: "pass the inputs")
                : await File.ReadAllTextAsync(call.InputsFile ?? throw new FlyteSharpException($"the call of task '{call.Task}' carries no inputs", fix: "pass \"inputs\" or \"inputs_file\""), cancellationToken).ConfigureAwait(false));
        using var doc = JsonDocument.Parse(text.Length == 0 ? "{}" : text);
        var parameters = task.Parameters!;
        var values = new object?[parameters.Count];
        for (var i = 0; i < parameters.Count; i++)
        {
            var parameter = parameters[i];
            if (!doc.RootElement.TryGetProperty(parameter.Name, out var element))
            {
                throw new FlyteSharpException($"task '{task.Name}' got no input '{parameter.Name}'", fix: "pass every input by its parameter name");
            }

            try
            {
                values[i] = element.Deserialize(parameter.Type, TaskJson.Options);
            }
            catch (Exception ex) when (ex is JsonException or NotSupportedException or InvalidOperationException)
            {
                throw new FlyteSharpException(
                    $"input '{parameter.Name}' of task '{task.Name}' ({TypeNames.Describe(parameter.Type)}) cannot be read from JSON: {ex.Message}",
                    fix: "pass numbers, strings, bools, lists, dictionaries or records of those");
            }
        }

        return values;
    }

    private static void CheckFramework(DepsJson deps)
    {
        var runtime = Environment.Version;
        if (deps.FrameworkVersion is { } wanted && (wanted.Major, wanted.Minor).CompareTo((runtime.Major, runtime.Minor)) > 0)
        {
            throw new FlyteSharpException(
                $"the bundle targets .NET {wanted.Major}.{wanted.Minor} ({deps.TargetFramework}), but the image has .NET {runtime.Major}.{runtime.Minor} ({RuntimeInformation.FrameworkDescription})",
                deps.File,
                fix: $"use Image.FromDotnetBase(\"{wanted.Major}.{wanted.Minor}\") with a base that has that runtime ([images] dotnet_base in flytesharp.toml), or target net{runtime.Major}.{runtime.Minor}");
        }
    }

    private static void CheckPackageVersions(DepsJson deps, ImagePackages packages)
    {
        foreach (var library in deps.Libraries.Where(l => l.IsPackage))
        {
            if (packages.Versions.TryGetValue(library.Name, out var image) && image != library.Version)
            {
                throw new FlyteSharpException(
                    $"bundle built against {library.Name} {library.Version}, image has {image}",
                    deps.File,
                    fix: "rebuild the image (its tag changes when packages.lock.json or the package references change), or restore the project against the image's versions");
            }
        }
    }

    /// <summary>An assembly the user's code needs that neither the bundle nor the image has, or has in an older version, as a clear error.</summary>
    private static FlyteSharpException? MissingAssembly(Exception ex, UserCodeLoadContext context, DepsJson deps, ImagePackages packages)
    {
        var load = Unwrap(ex);
        if (load is not (FileNotFoundException or FileLoadException or TypeLoadException or FlyteSharpException { InnerException: ReflectionTypeLoadException or FileNotFoundException or FileLoadException }))
        {
            return null;
        }

        lock (context.Conflicts)
        {
            if (context.Conflicts.FirstOrDefault() is { Requested: { } requested } conflict)
            {
                var bundleSide = deps.Libraries.FirstOrDefault(l => l.IsPackage && l.Files.Any(f => Path.GetFileNameWithoutExtension(f) == requested.Name));
                var imageSide = packages.PackageOf(Path.GetFileName(conflict.File));
                return new FlyteSharpException(
                    $"bundle built against {Describe(requested.Name, bundleSide?.Version, requested.Version)}, image has {Describe(requested.Name, imageSide?.Version, conflict.Found)} ({conflict.File})",
                    deps.File,
                    fix: "rebuild the image (its tag changes when packages.lock.json or the package references change)",
                    inner: load);
            }
        }

        lock (context.Unresolved)
        {
            var name = (load as FileNotFoundException)?.FileName ?? context.Unresolved.FirstOrDefault()?.FullName;
            if (name is null)
            {
                return null;
            }

            var assembly = new AssemblyName(name);
            var bundleSide = deps.Libraries.FirstOrDefault(l => l.Files.Any(f => Path.GetFileNameWithoutExtension(f) == assembly.Name));
            return new FlyteSharpException(
                $"the bundle needs assembly {assembly.Name} {assembly.Version}" + (bundleSide is null ? "" : $" (package {bundleSide.Name} {bundleSide.Version})") +
                $", which neither the bundle nor the image has (image packages: {(packages.Present ? string.Join(", ", packages.Versions.Select(p => $"{p.Key} {p.Value}")) : $"none, no {DotnetWorkerCommand.PackagesManifestFileName}")})",
                deps.File,
                fix: "add the project's NuGet dependencies to the image (Image.WithDotnetProject(\"App.csproj\")) and rebuild it",
                inner: load);
        }
    }

    private static string Describe(string? name, string? packageVersion, Version? assemblyVersion) =>
        packageVersion is null ? $"{name} (assembly {assemblyVersion})" : $"{name} {packageVersion}";

    internal static Exception Unwrap(Exception ex)
    {
        while (ex is AggregateException { InnerExceptions.Count: 1 } or TargetInvocationException or TypeInitializationException && ex.InnerException is not null)
        {
            ex = ex.InnerException;
        }

        return ex;
    }
}
