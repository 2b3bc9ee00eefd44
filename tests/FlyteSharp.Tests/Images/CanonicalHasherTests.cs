using FlyteSharp.Images;

namespace FlyteSharp.Tests.Images;

public class CanonicalHasherTests
{
    private static string Hash(Action<CanonicalHasher> write)
    {
        using var hasher = new CanonicalHasher();
        write(hasher);
        return hasher.Finish();
    }

    [Fact]
    public void Field_DifferentSplitsOfSameCharacters_GiveDifferentTags() =>
        Assert.NotEqual(Hash(h => h.Field("ab", "c")), Hash(h => h.Field("a", "bc")));

    [Fact]
    public void Field_NullAndEmpty_AreDistinct() =>
        Assert.NotEqual(Hash(h => h.Field("x", (string?)null)), Hash(h => h.Field("x", "")));

    [Fact]
    public void Field_ListVersusJoinedString_AreDistinct() =>
        Assert.NotEqual(Hash(h => h.Field("x", ["a", "b"])), Hash(h => h.Field("x", ["a b"])));

    [Fact]
    public void Finish_SameInput_IsStable() =>
        Assert.Equal(Hash(h => { h.Begin("k"); h.Field("a", "1"); h.End(); }), Hash(h => { h.Begin("k"); h.Field("a", "1"); h.End(); }));
}
