using System.CommandLine;
using FlyteSharp.Cli.Projects;
using FlyteSharp.Images;

namespace FlyteSharp.Cli;

/// <summary>
/// <c>flytesharp doctor &lt;project&gt;</c>: checks the project's image definitions for the seed's anti-patterns
/// and prints each finding with its reason and fix. Exit code 1 when there is an error (or the project
/// cannot be loaded), 0 otherwise.
/// </summary>
internal static class DoctorCommand
{
    public static Command Create(CliConsole console)
    {
        var project = new ProjectArguments();
        var command = new Command("doctor", "Check a project's images for anti-patterns (code in images, InstallProject, no uv.lock, unknown groups).");
        project.AddTo(command);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var (loaded, _, rootDir) = await project.LoadAsync(parse, cancellationToken, console.Error);
            int warnings = 0, errors = 0;
            if (rootDir is null)
            {
                warnings++;
                await console.Out.WriteLineAsync("warning: no root_dir configured, so code copied into images cannot be detected\n  fix: set root_dir in flytesharp.toml (the folder you would cd into before importing your modules) or pass --root-dir");
            }

            foreach (var env in loaded.Environments)
            {
                foreach (var d in ImageDiagnostics.Check(env.Image, rootDir))
                {
                    var severity = d.Severity == DiagnosticSeverity.Error ? "error" : "warning";
                    if (d.Severity == DiagnosticSeverity.Error)
                    {
                        errors++;
                    }
                    else
                    {
                        warnings++;
                    }

                    var location = d.File is null ? "" : d.Line is null ? $" ({d.File})" : $" ({d.File}:{d.Line})";
                    await console.Out.WriteLineAsync($"{severity} [{env.Name}]: {d.Reason}{location}\n  fix: {d.Fix}");
                }
            }

            await console.Out.WriteLineAsync($"{loaded.Environments.Count} environment(s), {errors} error(s), {warnings} warning(s)");
            return errors > 0 ? FlyteCli.Failure : 0;
        });
        return command;
    }
}
