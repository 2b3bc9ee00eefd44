using FlyteSharp.Images;
using FlyteSharp.Tasks;
using FlyteSharp.Worker;

namespace FlyteSharp.Tests.Worker;

public class WorkerTaskContextTests
{
    private static readonly TaskEnvironment Env = new("ctx", Image.FromDotnetBase(), envVars: new Dictionary<string, string> { ["LEVEL"] = "debug" },
        secrets: [new Secret("api_token")]);

    private static readonly FlyteTask<int, int> Child = Env.Task("child", async (int n) => await Task.FromResult(n));

    private static WorkerTaskContext Context() =>
        new(new WorkerArguments { Assembly = "A.dll", Task = "parent", Run = "r1", Action = "a1" }, Child, CancellationToken.None);

    [Fact]
    public async Task CallAsync_WithoutControllerApi_FailsAtOnceNamingTheLimitation()
    {
        var error = await Assert.ThrowsAsync<FlyteSharpException>(() => Context().CallAsync(Child, [1]));

        Assert.Equal("task 'child' runs in a container and called task 'child', but the worker has no controller API to submit it to the driver (no --controller)", error.Reason);
        Assert.Contains("set [kubernetes] controller_url in flytesharp.toml", error.Fix, StringComparison.Ordinal);
    }

    [Fact]
    public void FindSecret_DeliveredAsVariable_ReadsTheVariableTheWorkerSetFromTheMountedFile()
    {
        Environment.SetEnvironmentVariable("API_TOKEN", "s3cret");
        try
        {
            var context = Context();

            Assert.Equal("s3cret", context.FindSecret("api_token"));
            Assert.Null(context.FindSecret("other"));
            Assert.Equal(("r1", "a1", "ctx"), (context.RunName, context.ActionId, context.EnvironmentName));
            Assert.Equal("debug", context.EnvironmentVariables["LEVEL"]);
        }
        finally
        {
            Environment.SetEnvironmentVariable("API_TOKEN", null);
        }
    }
}
