using FlyteSharp.Images;
using FlyteSharp.Tasks;

namespace FlyteSharp.Tests.Worker;

/// <summary>The driver's definition of the child the compiled tasks call (found by scanning the parent's assembly).</summary>
internal static class ReloadDriverTasks
{
    public static readonly FlyteTask<int, int> Double = new TaskEnvironment("reload", Image.FromDebianBase())
        .Task("reload_double", async (int n) => await Task.FromResult(n * 200));
}
