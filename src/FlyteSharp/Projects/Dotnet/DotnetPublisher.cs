using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace FlyteSharp.Projects.Dotnet;

/// <summary>
/// Runs <c>dotnet publish</c> of a project on the host (framework-dependent, portable, Release) into a scratch folder,
/// with its own artifacts folder so the project's <c>bin/</c> and <c>obj/</c> are left alone. A project with a
/// packages.lock.json restores in locked mode (so the package files are exactly the locked ones); without one, the
/// publish does not write a lock file into the user's tree. A failed build becomes a <see cref="FlyteSharpException"/>
/// listing the compiler's errors with file and line.
/// </summary>
internal static partial class DotnetPublisher
{
    /// <summary>Publishes <paramref name="graph"/>'s root project into <c>{scratch}/publish</c>.</summary>
    /// <exception cref="FlyteSharpException">The project does not restore or build.</exception>
    public static async Task<DotnetPublishOutput> PublishAsync(DotnetProjectGraph graph, string scratch, CancellationToken cancellationToken)
    {
        var output = Path.Combine(scratch, "publish");
        var artifacts = Path.Combine(scratch, "artifacts");
        Directory.CreateDirectory(artifacts);
        await File.WriteAllTextAsync(Path.Combine(artifacts, PathsTargets), """
            <Project>
              <!-- The scratch folder as a source root: the compiler maps it (to /_1/) like the project's own root, so no
                   random scratch path reaches the assembly's debug directory or its PDB, and the same sources give the same bytes. -->
              <ItemGroup><SourceRoot Include="$(ArtifactsPath)/" /></ItemGroup>
            </Project>
            """, cancellationToken).ConfigureAwait(false);
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
        var info = new ProcessStartInfo(dotnet)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = graph.Root.Directory,
        };
        foreach (var argument in Arguments(graph, output, artifacts))
        {
            info.ArgumentList.Add(argument);
        }

        // A parent dotnet process (dotnet run, dotnet test) leaves MSBuild variables that would point this build at its SDK.
        foreach (var name in info.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase) || k == "MSBUILD_EXE_PATH").ToList())
        {
            info.Environment.Remove(name);
        }

        info.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        info.Environment["DOTNET_NOLOGO"] = "1";
        info.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        var text = new StringBuilder();
        Process process;
        try
        {
            process = Process.Start(info) ?? throw new InvalidOperationException("Process.Start returned null");
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            throw new FlyteSharpException($"cannot start `{dotnet} publish`: {ex.Message}", graph.Root.File,
                fix: "install the .NET SDK on this machine and put dotnet on PATH (the image's NuGet layer is published on the host)");
        }

        using (process)
        {
            void Append(string? line)
            {
                if (line is not null)
                {
                    lock (text)
                    {
                        text.Append(line).Append('\n');
                    }
                }
            }

            process.OutputDataReceived += (_, e) => Append(e.Data);
            process.ErrorDataReceived += (_, e) => Append(e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            try
            {
                await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw;
            }

            process.WaitForExit(); // drains the redirected streams
            if (process.ExitCode != 0)
            {
                throw BuildFailed(graph, text.ToString());
            }
        }

        var depsFile = Path.Combine(output, graph.Root.AssemblyName + ".deps.json");
        return new DotnetPublishOutput(output, DepsJson.Load(depsFile));
    }

    /// <summary>The <c>dotnet publish</c> arguments.</summary>
    internal static IReadOnlyList<string> Arguments(DotnetProjectGraph graph, string output, string artifacts) =>
    [
        "publish", graph.Root.File, "--configuration", "Release", "--output", output, "--artifacts-path", artifacts, "--no-self-contained",
        "-nologo", "-tl:off", "-v:minimal", "-p:UseAppHost=false", "-p:IsPublishable=true", "-p:Deterministic=true", "-p:ContinuousIntegrationBuild=true",
        graph.Root.LockFile is not null ? "-p:RestoreLockedMode=true" : "-p:RestorePackagesWithLockFile=false",
        "-p:CustomBeforeMicrosoftCommonTargets=" + Path.Combine(artifacts, PathsTargets),
    ];

    /// <summary>The MSBuild file, in the artifacts folder, that makes the scratch paths map like source paths.</summary>
    private const string PathsTargets = "flytesharp-paths.targets";

    /// <summary>The error for a failed publish: the compiler's and NuGet's errors with file and line; the first one locates it.</summary>
    internal static FlyteSharpException BuildFailed(DotnetProjectGraph graph, string output)
    {
        var errors = new List<(string File, int? Line, string Text, string Code)>();
        foreach (var raw in output.Split('\n'))
        {
            var line = raw.Trim();
            if (ErrorLine().Match(line) is { Success: true } m)
            {
                var file = m.Groups["file"].Value.Trim();
                int? number = m.Groups["line"].Success ? int.Parse(m.Groups["line"].Value, System.Globalization.CultureInfo.InvariantCulture) : null;
                var entry = (file, number, $"{file}{(number is null ? "" : $":{number}")}: error {m.Groups["code"].Value}: {m.Groups["text"].Value.Trim()}", m.Groups["code"].Value);
                if (!errors.Any(e => e.Text == entry.Item3))
                {
                    errors.Add(entry);
                }
            }
        }

        if (errors.Count == 0)
        {
            var tail = string.Join("\n  ", output.Split('\n', StringSplitOptions.RemoveEmptyEntries).TakeLast(15));
            return new FlyteSharpException($"`dotnet publish` of the project failed:\n  {tail}", graph.Root.File,
                fix: $"run `dotnet publish {graph.Root.File}` and fix what it reports");
        }

        var first = errors[0];
        var fix = errors.Any(e => e.Code == "NU1004")
            ? $"packages.lock.json no longer matches the project's package references: run `dotnet restore --force-evaluate` in {graph.Root.Directory} and commit the lock file"
            : errors.Any(e => e.Code.StartsWith("NU", StringComparison.Ordinal))
                ? "fix the package references or the package sources in NuGet.config (the NuGet layer is restored on this machine)"
                : $"fix the compiler errors above (`dotnet build {graph.Root.File}` shows them too); no image was built";
        return new FlyteSharpException(
            $"the project does not build, so its image layer cannot be made:\n  {string.Join("\n  ", errors.Take(20).Select(e => e.Text))}",
            first.File.Length > 0 && Path.IsPathRooted(first.File) ? first.File : graph.Root.File, first.Line, fix);
    }

    // MSBuild's canonical error format: "file(line,col): error CS1002: text [project]" or "file : error NU1101: text [project]".
    [GeneratedRegex(@"^(?<file>[^\s(][^(]*?)(\((?<line>\d+)(,\d+)*\))?\s*:\s*(?:[\w ]*\s)?error\s+(?<code>[A-Za-z]+\d+)\s*:\s*(?<text>.*?)(\s+\[[^\]]+\])?$")]
    private static partial Regex ErrorLine();
}
