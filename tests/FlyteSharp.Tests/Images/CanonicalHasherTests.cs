using System.Security.Cryptography;
using System.Text;
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

    [Fact]
    public void Finish_TokensAroundOneLargerThanTheBuffer_HashesTheStreamInOrder()
    {
        // Tokens are buffered before they reach MD5; one bigger than the buffer must still land between its neighbours.
        var big = new string('v', 40_000);
        var digest = new byte[32];
        digest[0] = 7;
        var expected = new List<byte>();
        void Token(byte kind, byte[] data)
        {
            expected.Add(kind);
            expected.AddRange(BitConverter.GetBytes((long)data.Length));
            expected.AddRange(data);
        }

        Token(1, Encoding.UTF8.GetBytes("k"));
        Token(3, Encoding.UTF8.GetBytes("a"));
        Token(5, Encoding.UTF8.GetBytes(big));
        for (var i = 0; i < 300; i++)
        {
            Token(7, Encoding.UTF8.GetBytes($"src/pkg/module_{i}.py"));
            Token(8, [1]);
            Token(9, digest);
        }

        Token(2, []);
        var tag = Hash(h =>
        {
            h.Begin("k");
            h.Field("a", big);
            for (var i = 0; i < 300; i++)
            {
                h.File($"src/pkg/module_{i}.py", executable: true, digest);
            }

            h.End();
        });

        Assert.True(BitConverter.IsLittleEndian);
        Assert.Equal(Convert.ToHexStringLower(MD5.HashData(expected.ToArray())), tag);
    }
}
