using FlyteSharp.Execution.Containers;
using FlyteSharp.Execution.Python;
using FlyteSharp.Tasks;

namespace FlyteSharp.Tests.Execution.Containers;

public class ContainerReplicaTests
{
    private static readonly ContainerRunSpec Spec = new(
        "podman", "flytesharp-run1-env-r1", new ContainerImage("localhost:5000/app:v1", "/usr/bin/python3", "/opt/flytesharp/flytesharp_runner.py", "/root", false),
        new Resources(), "/tmp/io", null, null, ["--serve", .. ContainerReplica.SocketArguments],
        new Dictionary<string, string> { [ContainerLabels.Environment] = "env" });

    [Fact]
    public void StartFailed_RunnerWithoutTheServeSocket_SaysTheImagesRunnerIsTooOldAndHowToFixIt()
    {
        // What argparse prints when an image deployed before the serve socket is started as a replica.
        var died = new PythonWorkerDiedException(2,
            "usage: flytesharp_runner.py [-h] --bundle-dir BUNDLE_DIR\nflytesharp_runner.py: error: unrecognized arguments: --serve-socket /flytesharp/io/serve.sock\n");

        var ex = ContainerReplica.StartFailed(Spec, died);

        Assert.Contains("runner too old for reusable containers", ex.Message, StringComparison.Ordinal);
        Assert.Contains("environment 'env'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("deploy the version again", ex.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void StartFailed_NoPython_SaysTheRunnerCannotStart()
    {
        var died = new PythonWorkerDiedException(127, "exec: \"/usr/bin/python3\": no such file or directory\n");

        var ex = ContainerReplica.StartFailed(Spec, died);

        Assert.Contains("could not start FlyteSharp's Python runner", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("too old", ex.Message, StringComparison.Ordinal);
    }
}
