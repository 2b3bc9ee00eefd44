using System.CommandLine;
using System.Reflection;

namespace FlyteSharp.Cli;

/// <summary><c>flytesharp version</c>: prints the tool's version.</summary>
internal static class VersionCommand
{
    public static Command Create(CliConsole console)
    {
        var command = new Command("version", "Print the FlyteSharp version.");
        command.SetAction(_ =>
        {
            var version = typeof(FlyteSharpException).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
            console.Out.WriteLine($"flytesharp {version}");
            return 0;
        });
        return command;
    }
}
