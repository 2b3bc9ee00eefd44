using FlyteSharp;
using FlyteSharp.Images;
using FlyteSharp.Tasks;

namespace DotnetTasks;

/// <summary>
/// The example's two environments: C# tasks in a .NET image whose dependency layer holds this project's NuGet
/// packages, and a Python task in a Debian + Python image that runs the code bundle (standard library only).
/// </summary>
public static class Envs
{
    /// <summary>The example's folder (examples/dotnet-tasks), found from this file like Python's __file__.</summary>
    public static readonly string ExampleRoot = SourceLocation.Combine("..");

    /// <summary>
    /// C# tasks: <c>[images] dotnet_base</c> + FlyteSharp's .NET worker + the runtime assets of Newtonsoft.Json (keyed by
    /// DotnetTasks.csproj, Directory.Packages.props and packages.lock.json, never a .cs file). Each action is its own
    /// container with these resources; the assembly comes from the run's .NET bundle.
    /// </summary>
    public static readonly TaskEnvironment Pricing = new(
        "pricing",
        Image.FromDotnetBase("10.0").WithDotnetProject(SourceLocation.Combine("DotnetTasks.csproj")),
        new Resources(Cpu: "1", Memory: "256Mi"));

    /// <summary>The Python task: <c>[images] python_base</c>, code from the run's code bundle (root_dir = python).</summary>
    public static readonly TaskEnvironment Analytics = new(
        "analytics",
        Image.FromDebianBase("3.11").WithCodeBundle(),
        new Resources(Cpu: "1", Memory: "128Mi"));
}
