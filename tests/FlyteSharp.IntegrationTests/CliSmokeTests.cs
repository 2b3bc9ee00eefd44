using FlyteSharp.Cli;
using FlyteSharp.IntegrationTests.Infrastructure;
using FlyteSharp.Processes;

namespace FlyteSharp.IntegrationTests;

public class CliSmokeTests
{
    [Fact]
    public async Task Version_PrintsToolName()
    {
        var output = new StringWriter();
        var code = await FlyteCli.RunAsync(["version"], output, new StringWriter(), TestContext.Current.CancellationToken);
        Assert.Equal(0, code);
        Assert.StartsWith("flytesharp ", output.ToString());
    }

    [Fact]
    public async Task CliProcess_UnexpectedException_PrintsInternalErrorAndLogPathAndExits2()
    {
        // A damaged installation (an assembly the CLI needs is garbage) throws where no command expects it: the
        // last-resort handler must turn it into one line, a log file and exit code 2, never a stack trace.
        var temp = Directory.CreateTempSubdirectory("flytesharp-it-internal-").FullName;
        try
        {
            var app = Directory.CreateDirectory(Path.Combine(temp, "app")).FullName;
            foreach (var entry in Directory.EnumerateFileSystemEntries(AppContext.BaseDirectory))
            {
                var name = Path.GetFileName(entry);
                var target = Path.Combine(app, name);
                if (name == "Microsoft.Data.Sqlite.dll")
                {
                    await File.WriteAllTextAsync(target, "not an assembly", TestContext.Current.CancellationToken);
                }
                else if (name.StartsWith("FlyteSharp.Cli.", StringComparison.Ordinal))
                {
                    File.Copy(entry, target); // a real copy: the host takes the app's folder from the main assembly's path
                }
                else if (Directory.Exists(entry))
                {
                    Directory.CreateSymbolicLink(target, entry);
                }
                else
                {
                    File.CreateSymbolicLink(target, entry);
                }
            }

            var home = Path.Combine(temp, "home");
            var database = Path.Combine(temp, "runs.db");
            File.WriteAllBytes(database, []); // an existing (empty) database, so `runs list` gets as far as loading SQLite
            var (code, stdout, stderr) = await ChildProcess.RunAsync(
                "dotnet", [Path.Combine(app, "FlyteSharp.Cli.dll"), "runs", "list", "--db", database],
                environment: new Dictionary<string, string?> { ["FLYTESHARP_HOME"] = home, ["FLYTESHARP_CONFIG"] = null },
                timeout: TimeSpan.FromMinutes(2), cancellationToken: TestContext.Current.CancellationToken);

            Assert.True(code == 2, $"exit {code}\n{stdout}\n{stderr}");
            var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.StartsWith("error: internal error: ", lines[0]);
            Assert.Contains("Microsoft.Data.Sqlite", lines[0]);
            Assert.DoesNotContain("Unhandled exception", stderr);
            Assert.DoesNotContain(lines, l => l.TrimStart().StartsWith("at ", StringComparison.Ordinal));
            var log = lines.Single(l => l.StartsWith("  details: ", StringComparison.Ordinal))["  details: ".Length..].Trim();
            Assert.Equal(Path.Combine(home, "logs"), Path.GetDirectoryName(log));
            var text = await File.ReadAllTextAsync(log, TestContext.Current.CancellationToken);
            Assert.Contains("Microsoft.Data.Sqlite", text);
            Assert.Contains("   at FlyteSharp.", text); // the full stack trace went to the log
        }
        finally
        {
            Directory.Delete(temp, recursive: true);
        }
    }
}
