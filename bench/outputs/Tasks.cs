using FlyteSharp.Images;
using FlyteSharp.Tasks;

namespace OutputsBench;

/// <summary>The tasks bench/outputs.sh runs with <c>flytesharp run</c> (root_dir is src/).</summary>
public static class Tasks
{
    public static readonly TaskEnvironment Env = new("outbench", Image.FromDebianBase());

    public static readonly FlyteTask<int, int> Tiny = Env.PythonTask<int, int>("outbench.tasks:tiny");

    public static readonly FlyteTask<int, List<string>> BigOutput = Env.PythonTask<int, List<string>>("outbench.tasks:big_output");

    public static readonly FlyteTask<int, int> BigLog = Env.PythonTask<int, int>("outbench.tasks:big_log");
}
