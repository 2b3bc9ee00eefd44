using FlyteSharp.Images;
using FlyteSharp.Tasks;

namespace FlyteSharp.Tests.Tasks;

public class TaskEnvironmentTests
{
    [Fact]
    public void Task_LambdaParameters_BecomeInputNames()
    {
        var env = new TaskEnvironment("ml", Image.FromDebianBase());

        var task = env.Task("ml_pipeline", (List<double> features, List<double> labels) => Task.FromResult(features.Count + labels.Count));

        Assert.Equal(["features", "labels"], task.Parameters!.Select(p => p.Name));
        Assert.Equal([typeof(List<double>), typeof(List<double>)], task.InputTypes);
        Assert.Equal(typeof(int), task.OutputType);
        Assert.Equal(TaskKind.CSharp, task.Kind);
        Assert.Contains(task, env.Tasks);
    }

    [Fact]
    public void PythonTask_Reference_ParsedAndParametersLearnedLater()
    {
        var env = new TaskEnvironment("etl", Image.FromDebianBase());

        var task = env.PythonTask<int, List<double>>("workspace_app.tasks.etl_tasks:load_data");

        Assert.Equal("workspace_app.tasks.etl_tasks", task.Python!.Module);
        Assert.Equal("load_data", task.Python.Function);
        Assert.Equal("workspace_app/tasks/etl_tasks.py", task.Python.ModulePath);
        Assert.Null(task.Parameters);
    }

    [Fact]
    public void PythonTask_DeclaredNamesOfWrongCount_Throws()
    {
        var env = new TaskEnvironment("etl", Image.FromDebianBase());

        var ex = Assert.Throws<FlyteSharpException>(() => env.PythonTask<int, int>("m:f", null, "a", "b"));

        Assert.Contains("takes 2 input(s) (a, b) but is declared with 1", ex.Message);
    }

    [Theory]
    [InlineData("no colon")]
    [InlineData("mod:")]
    [InlineData("1mod:f")]
    [InlineData("mod:f:g")]
    public void PythonTask_BadReference_ThrowsWithExample(string reference)
    {
        var env = new TaskEnvironment("etl", Image.FromDebianBase());

        var ex = Assert.Throws<FlyteSharpException>(() => env.PythonTask<int>(reference));

        Assert.Contains("package.module:function", ex.Message);
    }

    [Theory]
    [InlineData("")]
    [InlineData("has space")]
    [InlineData("a/b")]
    public void Task_BadName_Throws(string name)
    {
        var env = new TaskEnvironment("etl", Image.FromDebianBase());

        Assert.Throws<FlyteSharpException>(() => env.Task(name, () => Task.FromResult(1)));
    }

    [Fact]
    public void Task_NegativeRetries_Throws()
    {
        var env = new TaskEnvironment("etl", Image.FromDebianBase());

        var ex = Assert.Throws<FlyteSharpException>(() => env.Task("t", () => Task.FromResult(1), new TaskOptions { Retries = -1 }));

        Assert.Contains("Retries must be 0 or more", ex.Message);
    }

    [Theory]
    [InlineData("1ABC", "is not valid")]
    [InlineData("A-B", "is not valid")]
    [InlineData("FLYTESHARP_X", "is reserved")]
    [InlineData("PYTHONPATH", "is reserved")]
    public void Constructor_BadEnvVarName_ThrowsNamingIt(string name, string reason)
    {
        var ex = Assert.Throws<FlyteSharpException>(() => new TaskEnvironment("etl", Image.FromDebianBase(), envVars: new Dictionary<string, string> { [name] = "v" }));

        Assert.Contains(name, ex.Message);
        Assert.Contains(reason, ex.Message);
    }

    [Fact]
    public void Constructor_EnvVarsAndSecrets_KeptAndSecretDefaultsToUpperCaseVariable()
    {
        var env = new TaskEnvironment("etl", Image.FromDebianBase(), envVars: new Dictionary<string, string> { ["B"] = "2", ["A"] = "1" },
            secrets: [new Secret("openai-api.key"), new Secret("cert", Mount: "/etc/certs/")]);

        Assert.Equal(["A", "B"], env.EnvVars.Keys);
        Assert.Equal("OPENAI_API_KEY", env.Secrets[0].EnvironmentVariable);
        Assert.Null(env.Secrets[0].FilePath);
        Assert.Null(env.Secrets[1].EnvironmentVariable);
        Assert.Equal("/etc/certs/cert", env.Secrets[1].FilePath);
    }

    [Theory]
    [InlineData("../etc", null, null, "secret key '../etc'")]
    [InlineData("k", "bad group!", null, "secret group 'bad group!'")]
    [InlineData("k", null, "relative/dir", "is not an absolute directory")]
    [InlineData("k", null, "/etc/../root", "is not an absolute directory")]
    public void Constructor_BadSecret_ThrowsNamingTheField(string key, string? group, string? mount, string expected)
    {
        var ex = Assert.Throws<FlyteSharpException>(() => new TaskEnvironment("etl", Image.FromDebianBase(), secrets: [new Secret(key, group, Mount: mount)]));

        Assert.Contains(expected, ex.Message);
    }

    [Fact]
    public void Constructor_SecretDeliveredAsAnEnvVar_Throws()
    {
        var ex = Assert.Throws<FlyteSharpException>(() => new TaskEnvironment("etl", Image.FromDebianBase(),
            envVars: new Dictionary<string, string> { ["TOKEN"] = "x" }, secrets: [new Secret("token")]));

        Assert.Contains("would be delivered as TOKEN, which is also one of its envVars", ex.Message);
    }
}
