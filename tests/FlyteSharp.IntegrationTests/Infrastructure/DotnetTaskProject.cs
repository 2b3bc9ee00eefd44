using FlyteSharp.Cli.Projects;
using FlyteSharp.Configuration;
using FlyteSharp.Execution;
using FlyteSharp.Runs;
using FlyteSharp.Tasks;
using FlyteSharp.Tasks.Discovery;

namespace FlyteSharp.IntegrationTests.Infrastructure;

/// <summary>
/// A throw-away C# task project for .NET container tests: <c>App.csproj</c> (referencing the FlyteSharp.dll these tests
/// run with, built deterministically) and <c>Tasks.cs</c> written by the test, built with the real SDK and loaded the way
/// the CLI loads a project (FlyteSharp shared), each build from its own copy of the output so an edit can be loaded
/// again next to the previous one. Settings point at the real registry and the local .NET base.
/// </summary>
public sealed class DotnetTaskProject : IDisposable
{
    private readonly PodmanProject _podman;
    private int _loads;

    /// <summary>Creates the project; images go to <paramref name="registry"/> under a repository unique to it.</summary>
    public DotnetTaskProject(DistributionRegistry registry)
    {
        _podman = new PodmanProject(registry);
        // One repository for every .NET test of this process: the image's tag depends only on the base and the worker, so
        // the first test builds it and the others find it (each test still counts its own builds).
        _podman.Config = _podman.Config with { DotnetBaseImage = DotnetBaseImage.Reference, ImageName = SharedRepository };
        Directory.CreateDirectory(ProjectDirectory);
    }

    /// <summary>The image repository the .NET tests of this process share.</summary>
    public static string SharedRepository { get; } = "flytesharp-test/dotnet-" + Guid.NewGuid().ToString("N")[..8];

    /// <summary>The project's root (home, sources, build copies).</summary>
    public string Root => _podman.Root;

    /// <summary>The folder holding App.csproj.</summary>
    public string ProjectDirectory => Path.Combine(Root, "app");

    /// <summary>Settings for runs of this project.</summary>
    public FlyteConfig Config
    {
        get => _podman.Config;
        set => _podman.Config = value;
    }

    /// <summary>A runtime over <see cref="Config"/>.</summary>
    public FlyteRuntime Runtime => _podman.Runtime;

    /// <summary>Writes a Python file under the project's root_dir (src/).</summary>
    public DotnetTaskProject WritePython(string relativePath, string content)
    {
        _podman.WritePython(relativePath, content);
        return this;
    }

    /// <summary>Build logs written so far (one per image actually built).</summary>
    public IReadOnlyList<string> BuildLogs() => _podman.BuildLogs();

    /// <summary>The csproj every project gets: deterministic, no absolute paths in its output.</summary>
    public static string ProjectFile(string assemblyName = "DotnetTasksApp", string targetFramework = "net10.0") => $"""
        <Project Sdk="Microsoft.NET.Sdk">
          <PropertyGroup>
            <TargetFramework>{targetFramework}</TargetFramework>
            <Nullable>enable</Nullable>
            <ImplicitUsings>enable</ImplicitUsings>
            <AssemblyName>{assemblyName}</AssemblyName>
            <Deterministic>true</Deterministic>
            <PathMap>$(MSBuildProjectDirectory)=/_/</PathMap>
          </PropertyGroup>
          <ItemGroup>
            <Reference Include="FlyteSharp">
              <HintPath>{Path.Combine(AppContext.BaseDirectory, "FlyteSharp.dll")}</HintPath>
              <Private>false</Private>
            </Reference>
          </ItemGroup>
        </Project>
        """;

    /// <summary>Writes App.csproj (once) and Tasks.cs.</summary>
    public DotnetTaskProject WriteTasks(string code)
    {
        var csproj = Path.Combine(ProjectDirectory, "App.csproj");
        if (!File.Exists(csproj))
        {
            File.WriteAllText(csproj, ProjectFile());
        }

        File.WriteAllText(Path.Combine(ProjectDirectory, "Tasks.cs"), code.ReplaceLineEndings("\n"));
        return this;
    }

    /// <summary>Builds <paramref name="directory"/> (default the project) with the real SDK; fails the test with the compiler's output.</summary>
    public static async Task<string> BuildAsync(string directory)
    {
        var (code, stdout, stderr) = await ChildProcess.RunAsync("dotnet", ["build", directory, "-c", "Release", "--nologo", "-v", "q", "-nodeReuse:false"], timeout: TimeSpan.FromMinutes(5));
        Assert.True(code == 0, "building the task project failed:\n" + stdout + stderr);
        return Path.Combine(directory, "bin", "Release", "net10.0");
    }

    /// <summary>Builds the project and loads a copy of its output; returns its tasks.</summary>
    internal async Task<TaskCatalog> BuildAndLoadAsync()
    {
        var output = await BuildAsync(ProjectDirectory);
        var copy = Path.Combine(Root, "loads", (++_loads).ToString(System.Globalization.CultureInfo.InvariantCulture));
        CopyDirectory(output, copy);
        var entry = Path.Combine(copy, "DotnetTasksApp.dll");
        var assembly = new ProjectLoadContext(entry).LoadFromAssemblyPath(entry);
        return new TaskCatalog(assembly, entry);
    }

    /// <summary>Starts a run of <paramref name="task"/> with inputs given as JSON text by name.</summary>
    internal Task<Run> RunAsync(TaskDefinition task, IReadOnlyDictionary<string, string> inputs, RunOptions options) =>
        Runtime.RunWithTextInputsAsync(task, inputs, options);

    private static void CopyDirectory(string from, string to)
    {
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    /// <inheritdoc />
    public void Dispose() => _podman.Dispose();
}
