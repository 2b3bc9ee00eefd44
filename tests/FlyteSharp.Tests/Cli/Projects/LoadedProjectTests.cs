using FlyteSharp.Cli.Projects;
using FlyteSharp.Images;
using FlyteSharp.Tasks;

namespace FlyteSharp.Tests.Cli.Projects;

public class LoadedProjectTests
{
    private static LoadedProject Load(params Type[] types) => new("/p/App.csproj", typeof(LoadedProjectTests).Assembly, types);

    [Fact]
    public void Environments_StaticFieldsAndProperties_AreFoundOnce()
    {
        var project = Load(typeof(TwoEnvs));
        Assert.Equal(["etl", "ml"], project.Environments.Select(e => e.Name));
        Assert.Same(TwoEnvs.Etl, project.Environment("etl"));
    }

    [Fact]
    public void Environments_DuplicateName_Throws()
    {
        var ex = Assert.Throws<FlyteSharpException>(() => Load(typeof(TwoEnvs), typeof(DuplicateEnv)));
        Assert.Contains("two task environments are named 'etl'", ex.Message);
        Assert.Contains(nameof(DuplicateEnv), ex.Message);
    }

    [Fact]
    public void Environments_FailingStaticInitializer_NamesTypeMemberAndFile()
    {
        var ex = Assert.Throws<FlyteSharpException>(() => Load(typeof(BrokenEnvs)));
        Assert.Contains($"{typeof(BrokenEnvs).FullName}.Etl", ex.Message);
        Assert.Equal(Path.GetFullPath("/definitely/missing/pyproject.toml"), ex.File);
    }

    [Fact]
    public void Environments_InitializerMissesAFlyteSharpMember_SaysToRebuildNotToFixTheInitializer()
    {
        // What the runtime throws when a build made against another FlyteSharp calls a constructor that is gone.
        var ex = Assert.Throws<FlyteSharpException>(() => Load(typeof(StaleBuildEnvs)));

        Assert.Contains("MissingMethodException", ex.Message);
        Assert.Contains("rebuild it", ex.Fix);
        Assert.Contains("--no-build", ex.Fix);
        Assert.DoesNotContain("fix the static initializer", ex.Fix);
    }

    [Fact]
    public void Environments_TypeWithoutEnvironmentMembers_IsNotInitialized()
    {
        var project = Load(typeof(ThrowsIfInitialized), typeof(TwoEnvs));
        Assert.Equal(2, project.Environments.Count);
    }

    [Fact]
    public void Environment_UnknownName_ListsKnownOnes() =>
        Assert.Contains("etl, ml", Assert.Throws<FlyteSharpException>(() => Load(typeof(TwoEnvs)).Environment("nope")).Fix);

    [Fact]
    public void StaticMembersOf_OtherType_FindsThem() =>
        Assert.Contains(Load(typeof(TwoEnvs)).StaticMembersOf<Image>(), i => ReferenceEquals(i, TwoEnvs.SharedImage));

    [Fact]
    public void LoadTasks_TasksDeclaredInAnotherType_RegisterWithTheirEnvironment()
    {
        var project = Load(typeof(EnvOnly), typeof(TasksElsewhere));
        var env = project.Environment("deploy-env");

        var tasks = project.LoadTasks();

        Assert.Equal(["deploy-env.double", "deploy-env.app.ops:square"], tasks.Select(t => t.ToString()));
        Assert.Equal(["double", "app.ops:square"], env.Tasks.Select(t => t.Name));
    }

    private static class EnvOnly
    {
        public static readonly TaskEnvironment Env = new("deploy-env", Image.FromDebianBase());
    }

    private static class TasksElsewhere
    {
        public static readonly FlyteTask<int, int> Double = EnvOnly.Env.Task("double", async (int x) => await Task.FromResult(x * 2));

        public static FlyteTask<int, int> Square { get; } = EnvOnly.Env.PythonTask<int, int>("app.ops:square");
    }

    private static class TwoEnvs
    {
        public static readonly Image SharedImage = Image.FromDebianBase();
        public static readonly TaskEnvironment Etl = new("etl", SharedImage);

        public static TaskEnvironment Ml { get; } = new("ml", SharedImage);

        public static TaskEnvironment Alias => Etl; // the same environment twice is fine
    }

    private static class DuplicateEnv
    {
        public static readonly TaskEnvironment Other = new("etl", Image.FromDebianBase());
    }

    private static class BrokenEnvs
    {
        public static readonly TaskEnvironment Etl = new("etl", Image.FromDebianBase().WithUvProject("/definitely/missing/pyproject.toml"));
    }

    private static class StaleBuildEnvs
    {
        public static readonly TaskEnvironment Etl = Missing();

        private static TaskEnvironment Missing() =>
            throw new MissingMethodException("Method not found: 'Void FlyteSharp.Tasks.TaskEnvironment..ctor(System.String, FlyteSharp.Images.Image, FlyteSharp.Tasks.Resources)'.");
    }

    private static class ThrowsIfInitialized
    {
        public static readonly string Value = Fail();

        private static string Fail() => throw new InvalidOperationException("must not run");
    }
}
