using FlyteSharp.Cli;
using FlyteSharp.Cli.Projects;
using FlyteSharp.Images;
using FlyteSharp.Tasks;

namespace FlyteSharp.Tests.Cli;

public class RunCommandTests
{
    private static LoadedProject Load(params Type[] types) => new("/p/App.csproj", typeof(RunCommandTests).Assembly, types);

    [Fact]
    public void FindTask_FullNameDeclaredTwice_SuggestsTheMemberNamesNotTheAmbiguousFullName()
    {
        var project = Load(typeof(TwiceDeclared));

        var ex = Assert.Throws<FlyteSharpException>(() => RunCommand.FindTask(project, "app.etl:load"));

        Assert.Contains("'app.etl:load' matches several tasks", ex.Reason);
        Assert.Equal("name the one you mean: Load or LoadWithRetries", ex.Fix);
        Assert.DoesNotContain("full name", ex.Fix);
        Assert.Same(TwiceDeclared.LoadWithRetries, RunCommand.FindTask(project, "LoadWithRetries"));
        Assert.Same(TwiceDeclared.Load, RunCommand.FindTask(project, "Load"));
    }

    [Fact]
    public void FindTask_FunctionNameOfTwoModules_SuggestsTheFullNames()
    {
        var project = Load(typeof(TwoModules));

        var ex = Assert.Throws<FlyteSharpException>(() => RunCommand.FindTask(project, "load"));

        Assert.Equal("name the one you mean: app.a:load or app.b:load", ex.Fix);
        Assert.Same(TwoModules.B, RunCommand.FindTask(project, "app.b:load"));
    }

    [Fact]
    public void FindTask_SameMemberNameInTwoTypes_SuggestsTypeDotMember()
    {
        var project = Load(typeof(TwiceDeclared), typeof(OtherTwice));

        var ex = Assert.Throws<FlyteSharpException>(() => RunCommand.FindTask(project, "app.etl:load"));

        Assert.Equal("name the one you mean: OtherTwice.Load or TwiceDeclared.Load or LoadWithRetries", ex.Fix);
        Assert.Same(OtherTwice.Load, RunCommand.FindTask(project, "OtherTwice.Load"));
        Assert.Same(TwiceDeclared.Load, RunCommand.FindTask(project, "TwiceDeclared.Load"));
    }

    private static class Envs
    {
        public static readonly TaskEnvironment Etl = new("find-etl", Image.FromDebianBase());
    }

    private static class TwiceDeclared
    {
        public static readonly FlyteTask<int, int> Load = Envs.Etl.PythonTask<int, int>("app.etl:load");
        public static readonly FlyteTask<int, int> LoadWithRetries = Envs.Etl.PythonTask<int, int>("app.etl:load", new TaskOptions { Retries = 3 });
    }

    private static class OtherTwice
    {
        public static readonly FlyteTask<int, int> Load = Envs.Etl.PythonTask<int, int>("app.etl:load", new TaskOptions { Cache = true });
    }

    private static class TwoModules
    {
        public static readonly FlyteTask<int, int> A = Envs.Etl.PythonTask<int, int>("app.a:load");
        public static readonly FlyteTask<int, int> B = Envs.Etl.PythonTask<int, int>("app.b:load");
    }
}
