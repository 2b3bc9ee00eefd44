using System.Diagnostics;
using System.Reflection;
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
/// FlyteSharp's .NET worker: what <c>dotnet /opt/flytesharp/worker/flytesharp-worker.dll</c> runs in a container or
/// pod. It fetches and verifies the .NET code bundle (or uses the image's app folder), loads the user's assemblies in
/// a <see cref="UserCodeLoadContext"/>, finds the task with the CLI's name resolution (<see cref="TaskCatalog"/>), reads
/// the JSON inputs, runs the body under the task's timeout and the container's stop signal, and writes the reply with
/// <see cref="RunnerProtocol"/>: exit code 0 when the task returned, 1 when it (or loading it) failed, 3 when the
/// bundle was refused, 2 for a command line it cannot use — the Python runner's codes. The <c>flytesharp-worker</c> exe
/// only calls <see cref="RunAsync"/>; a host that builds its own worker image can do the same.
/// </summary>
public static class DotnetWorker
{
    /// <summary>Runs one task call as <paramref name="args"/> describe.</summary>
    /// <param name="args">The command line (see <see cref="WorkerArguments"/>).</param>
    /// <param name="stdout">The process's standard output (task output and, with <c>--result-stdout</c>, the result line).</param>
    /// <param name="stderr">The process's standard error (the worker's own diagnostics).</param>
    /// <param name="stop">Cancelled when the container is asked to stop.</param>
    /// <returns>The exit code.</returns>
    public static async Task<int> RunAsync(IReadOnlyList<string> args, TextWriter stdout, TextWriter stderr, CancellationToken stop)
    {
        ArgumentNullException.ThrowIfNull(args);
        ArgumentNullException.ThrowIfNull(stdout);
        ArgumentNullException.ThrowIfNull(stderr);
        var started = Stopwatch.GetTimestamp();
        var startedEpoch = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
        WorkerArguments arguments;
        try
        {
            arguments = WorkerArguments.Parse(args);
        }
        catch (FlyteSharpException ex)
        {
            await stderr.WriteLineAsync("flytesharp-worker: error: " + ex.Message).ConfigureAwait(false);
            return DotnetWorkerCommand.UsageExitCode;
        }

        var bundleSeconds = 0.0;
        async Task<int> ReplyAsync(string reply, int code)
        {
            if (arguments.OutputsFile is { } outputs)
            {
                var temp = outputs + ".tmp";
                await File.WriteAllTextAsync(temp, reply, CancellationToken.None).ConfigureAwait(false);
                File.Move(temp, outputs, overwrite: true);
                await stdout.FlushAsync(CancellationToken.None).ConfigureAwait(false);
                await stdout.WriteLineAsync(RunnerProtocol.ReplyWritten).ConfigureAwait(false);
            }

            if (arguments.ResultOnStdout)
            {
                await stdout.WriteLineAsync(RunnerProtocol.ResultLine(reply)).ConfigureAwait(false);
            }

            await stdout.FlushAsync(CancellationToken.None).ConfigureAwait(false);
            return code;
        }

        Dictionary<string, double> Timings(double task) => new(StringComparer.Ordinal) { ["started"] = startedEpoch, ["bundle"] = bundleSeconds, ["task"] = task };

        foreach (var (variable, file) in arguments.SecretVariables)
        {
            Environment.SetEnvironmentVariable(variable, File.ReadAllText(file));
        }

        string codeDirectory;
        try
        {
            codeDirectory = await PrepareCodeAsync(arguments, stop).ConfigureAwait(false);
            bundleSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        }
        catch (FlyteSharpException ex)
        {
            var type = ex.Reason.StartsWith("digest mismatch", StringComparison.Ordinal) ? "flytesharp.BundleDigestMismatch" : "flytesharp.BundleError";
            return await ReplyAsync(RunnerProtocol.CallFailed(type, ex.Message, "", Timings(0)), RunnerProtocol.BundleRefusedExitCode).ConfigureAwait(false);
        }

        var taskStarted = Stopwatch.GetTimestamp();
        try
        {
            var output = await LoadAndRunAsync(arguments, codeDirectory, stop).ConfigureAwait(false);
            return await ReplyAsync(RunnerProtocol.CallSucceeded(output, Timings(Stopwatch.GetElapsedTime(taskStarted).TotalSeconds)), 0).ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            var error = Unwrap(ex);
            var type = error.GetType().FullName ?? error.GetType().Name;
            return await ReplyAsync(RunnerProtocol.CallFailed(type, error.Message, error.ToString(), Timings(Stopwatch.GetElapsedTime(taskStarted).TotalSeconds)), 1).ConfigureAwait(false);
        }
    }

    private static async Task<string> PrepareCodeAsync(WorkerArguments arguments, CancellationToken cancellationToken)
    {
        if (arguments.Bundle is null)
        {
            if (!Directory.Exists(arguments.AppDirectory))
            {
                throw new FlyteSharpException("the call has no .NET bundle and the image has no app folder", arguments.AppDirectory,
                    fix: "pass --bundle and --digest, or build the image with the project installed (a full-build deploy)");
            }

            return arguments.AppDirectory;
        }

        var archive = arguments.Bundle;
        string? downloaded = null;
        try
        {
            if (archive.StartsWith("http://", StringComparison.Ordinal) || archive.StartsWith("https://", StringComparison.Ordinal))
            {
                downloaded = Path.Combine(Path.GetTempPath(), "flytesharp-dotnet-bundle-" + Guid.NewGuid().ToString("N") + ".tar.gz");
                await BundleDownload.ToFileAsync(archive, arguments.BundleAuthFile, downloaded, cancellationToken).ConfigureAwait(false);
                archive = downloaded;
            }

            await BundleExtractor.ExtractAsync(archive, arguments.Digest!, arguments.BundleDirectory, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            if (downloaded is not null)
            {
                File.Delete(downloaded);
            }
        }

        return arguments.BundleDirectory;
    }

    private static async Task<string> LoadAndRunAsync(WorkerArguments arguments, string codeDirectory, CancellationToken stop)
    {
        var entry = Path.Combine(codeDirectory, arguments.Assembly);
        if (arguments.Assembly.Contains('/') || arguments.Assembly.Contains('\\') || !File.Exists(entry))
        {
            throw new FlyteSharpException($"the code has no assembly '{arguments.Assembly}'", codeDirectory,
                fix: "the bundle does not hold the task's assembly: rebuild the project and run again");
        }

        var deps = DepsJson.Load(Path.ChangeExtension(entry, ".deps.json"));
        CheckFramework(deps);
        var packages = ImagePackages.Load(arguments.PackagesDirectory);
        CheckPackageVersions(deps, packages);

        // Image definitions in the user's static initializers describe the driver's files (pyproject.toml, .csproj):
        // the container has none of them and builds no image, so reading them is skipped here.
        AppContext.SetSwitch(Images.Image.DefinitionsOnlySwitch, true);
        var context = new UserCodeLoadContext(codeDirectory, packages);
        TaskDefinition task;
        try
        {
            var assembly = context.LoadFromAssemblyPath(entry);
            var catalog = new TaskCatalog(assembly, entry);
            try
            {
                task = catalog.FindTask(arguments.Task);
            }
            catch (FlyteSharpException ex) when (ex.Reason.Contains("no task named", StringComparison.Ordinal))
            {
                throw new FlyteSharpException($"task '{arguments.Task}' is not in the bundle: {ex.Reason}", entry,
                    fix: "a C# task that runs outside the driver is found by name among the static fields and properties of its assembly " +
                         "(as `flytesharp run` finds it): declare it as one, e.g. public static readonly FlyteTask<int, int> Double = Env.Task(\"double\", …)" +
                         (ex.Fix is { } known && known.StartsWith("use one of", StringComparison.Ordinal) ? $"; the bundle has: {known["use one of: ".Length..]}" : ""),
                    inner: ex);
            }
        }
        catch (Exception ex) when (MissingAssembly(ex, context, deps, packages) is { } missing)
        {
            throw missing;
        }

        if (task.Kind != TaskKind.CSharp)
        {
            throw new FlyteSharpException($"task '{task.Name}' is a Python task; the .NET worker runs C# tasks", entry, fix: "run it with the Python runner");
        }

        var inputs = await ReadInputsAsync(arguments, task, stop).ConfigureAwait(false);
        using var timeout = task.Options.Timeout is { } limit ? new CancellationTokenSource(limit) : new CancellationTokenSource();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(stop, timeout.Token);
        var withoutController = new WorkerTaskContext(arguments, task, linked.Token);
        using var client = arguments.Controller is { } address
            ? ControllerClient.FromTokenFile(ControllerAddress.Parse(address), arguments.ControllerTokenFile ?? ControllerProtocol.ContainerTokenPath)
            : null;
        ITaskCallContext callContext = client is null
            ? withoutController
            : new ControllerTaskCallContext(client, arguments.Run, arguments.Action, 1, task.Environment.Name, task.Environment.EnvVars, linked.Token, withoutController.FindSecret);
        object? value;
        try
        {
            value = await InvokeAsync(callContext, task, inputs).WaitAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !stop.IsCancellationRequested)
        {
            throw new TaskTimeoutException(task.Name, task.Options.Timeout!.Value, 1);
        }
        catch (Exception ex) when (MissingAssembly(ex, context, deps, packages) is { } missing)
        {
            throw missing;
        }

        return TaskJson.SerializeOutput(task, value);
    }

    private static async Task<object?> InvokeAsync(ITaskCallContext context, TaskDefinition task, object?[] inputs)
    {
        // Set inside this async method: the body's flow sees the context, the worker's does not.
        TaskCalls.Current = context;
        return await task.InvokeBodyAsync(inputs).ConfigureAwait(false);
    }

    private static async Task<object?[]> ReadInputsAsync(WorkerArguments arguments, TaskDefinition task, CancellationToken cancellationToken)
    {
        var text = arguments.InputsVariable is { } variable
            ? Environment.GetEnvironmentVariable(variable) ?? throw new FlyteSharpException($"environment variable {variable} with the inputs is not set", fix: "pass the inputs")
            : await File.ReadAllTextAsync(arguments.InputsFile!, cancellationToken).ConfigureAwait(false);
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

    private static Exception Unwrap(Exception ex)
    {
        while (ex is AggregateException { InnerExceptions.Count: 1 } or TargetInvocationException or TypeInitializationException && ex.InnerException is not null)
        {
            ex = ex.InnerException;
        }

        return ex;
    }
}
