using FlyteSharp.Images;
using FlyteSharp.Tasks;

namespace FlyteSharp.Tests.Tasks;

public class ReusePolicyTests
{
    [Fact]
    public void Constructor_Defaults_FollowFlyte()
    {
        var policy = new ReusePolicy();

        Assert.Equal(2, policy.Replicas);
        Assert.Equal(TimeSpan.FromSeconds(30), policy.IdleTtl);
        Assert.Equal(ReuseScope.Run, policy.Scope);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(ReusePolicy.MaxReplicas + 1)]
    public void Constructor_ReplicasOutOfRange_ThrowsWithTheRangeAndAFix(int replicas)
    {
        var ex = Assert.Throws<FlyteSharpException>(() => new ReusePolicy(Replicas: replicas));

        Assert.Contains("between 1 and 64", ex.Message);
        Assert.Contains(replicas.ToString(System.Globalization.CultureInfo.InvariantCulture), ex.Message);
        Assert.NotNull(ex.Fix);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    [InlineData(86_401)]
    public void Constructor_IdleTtlOutOfRange_Throws(int seconds)
    {
        var ex = Assert.Throws<FlyteSharpException>(() => new ReusePolicy(Replicas: 1, IdleTtl: TimeSpan.FromSeconds(seconds)));

        Assert.Contains("IdleTtl", ex.Message);
        Assert.Contains("TimeSpan.FromMinutes", ex.Fix);
    }

    [Fact]
    public void Constructor_InfiniteIdleTtl_KeepsReplicasUntilTheScopeEnds()
    {
        Assert.Equal(Timeout.InfiniteTimeSpan, new ReusePolicy(Replicas: 4, IdleTtl: Timeout.InfiniteTimeSpan).IdleTtl);
    }

    [Fact]
    public void Constructor_UndefinedScope_Throws()
    {
        var ex = Assert.Throws<FlyteSharpException>(() => new ReusePolicy(Scope: (ReuseScope)7));

        Assert.Contains("ReuseScope", ex.Fix);
    }

    [Fact]
    public void TaskEnvironment_WithReuse_KeepsThePolicy()
    {
        var policy = new ReusePolicy(Replicas: 3, IdleTtl: TimeSpan.FromMinutes(5));
        var env = new TaskEnvironment("etl", Image.FromDebianBase("3.12"), reuse: policy);

        Assert.Same(policy, env.Reuse);
        Assert.Null(new TaskEnvironment("plain", Image.FromDebianBase("3.12")).Reuse);
    }
}
