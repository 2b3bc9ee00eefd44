using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using FlyteSharp.Cli;
using FlyteSharp.IntegrationTests.Infrastructure;
using Microsoft.Data.Sqlite;

namespace FlyteSharp.IntegrationTests.Runs;

/// <summary>
/// Builds tests/Fixtures/RunsFixture once and gives the tests a private FlyteSharp home, run database and config
/// file; runs the real CLI in-process or as a separate process (dotnet FlyteSharp.Cli.dll).
/// </summary>
public sealed class RunsProjectFixture : IAsyncLifetime
{
    public string RepoRoot { get; } = FindRepoRoot();

    public string Temp { get; } = Path.Combine(Path.GetTempPath(), "flytesharp-it-runs-" + Guid.NewGuid().ToString("n"));

    public string ProjectDir => Path.Combine(RepoRoot, "tests", "Fixtures", "RunsFixture");

    public string RootDir => Path.Combine(ProjectDir, "src");

    public string ConfigFile => Path.Combine(Temp, "flytesharp.toml");

    public string Database => Path.Combine(Temp, "runs.db");

    public int ConsolePort { get; } = FreePort();

    public async ValueTask InitializeAsync()
    {
        Directory.CreateDirectory(Temp);
        await File.WriteAllTextAsync(ConfigFile, $"""
            home = "{Path.Combine(Temp, "home")}"
            root_dir = "{RootDir}"
            [runs]
            database = "{Database}"
            console_url = "http://localhost:{ConsolePort}"
            """);
        var (code, stdout, stderr) = await ChildProcess.RunAsync("dotnet", ["build", ProjectDir, "--nologo", "-v", "q", "-nodeReuse:false"], timeout: TimeSpan.FromMinutes(5));
        Assert.True(code == 0, "building the fixture project failed:\n" + stdout + stderr);
    }

    public ValueTask DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(Temp, recursive: true);
        }
        catch (IOException)
        {
        }

        return ValueTask.CompletedTask;
    }

    /// <summary>Runs the CLI in this process.</summary>
    public async Task<(int Code, string Out, string Err)> CliAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var code = await FlyteCli.RunAsync(args, output, error, TestContext.Current.CancellationToken);
        return (code, output.ToString(), error.ToString());
    }

    /// <summary>Starts the CLI as a separate process.</summary>
    public Process StartCli(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "FlyteSharp.Cli.dll"));
        foreach (var a in args)
        {
            start.ArgumentList.Add(a);
        }

        return Process.Start(start)!;
    }

    internal static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string FindRepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "FlyteSharp.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("FlyteSharp.slnx not found above " + AppContext.BaseDirectory);
    }
}
