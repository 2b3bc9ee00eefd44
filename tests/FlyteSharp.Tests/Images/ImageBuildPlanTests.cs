using FlyteSharp.Configuration;
using FlyteSharp.Files;
using FlyteSharp.Images;

namespace FlyteSharp.Tests.Images;

public class ImageBuildPlanTests
{
    [Fact]
    public void Context_TwoEntriesForOnePath_Throws()
    {
        using var plan = new ImageBuildPlan(new ImageResolveOptions(new FlyteConfig()), new FileDigestCache(TimeProvider.System), DockerIgnore.Empty);
        plan.AddBytes("b/x", [1]);
        plan.AddBytes("a/y", [2]);
        plan.AddBytes("b/x", [3]);

        var ex = Assert.Throws<InvalidOperationException>(() => plan.Context);

        Assert.Contains("'b/x'", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(2)]
    [InlineData(5)]
    [InlineData(40)] // more runs than the merge takes: a full stable sort
    public void SortedOrdinal_SeveralSortedRuns_SortsStablyLikeOrderBy(int runs)
    {
        var random = new Random(runs);
        var items = new List<(string Key, int Order)>();
        for (var r = 0; r < runs; r++)
        {
            var keys = Enumerable.Range(0, 30).Select(_ => "k" + random.Next(50).ToString("D2", System.Globalization.CultureInfo.InvariantCulture)).Order(StringComparer.Ordinal);
            items.AddRange(keys.Select(k => (k, items.Count)));
        }

        var expected = items.OrderBy(i => i.Key, StringComparer.Ordinal).ToList();

        Assert.Equal(expected, ImageBuildPlan.SortedOrdinal([.. items], i => i.Key));
    }
}
