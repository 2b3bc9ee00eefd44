using FlyteSharp.Images;

namespace FlyteSharp.Tests.Images;

public class OciReferenceTests
{
    [Theory]
    [InlineData("localhost:5000", true)]
    [InlineData("ghcr.io/my-org", true)]
    [InlineData("127.0.0.1:5000/a/b", true)]
    [InlineData("http://x", false)]
    [InlineData("ghcr.io/My-Org", false)]
    [InlineData("", false)]
    public void IsValidRegistry_Classifies(string registry, bool valid) => Assert.Equal(valid, OciReference.IsValidRegistry(registry));

    [Theory]
    [InlineData("flytesharp", true)]
    [InlineData("team/etl-image", true)]
    [InlineData("a__b.c", true)]
    [InlineData("Upper", false)]
    [InlineData("trailing-", false)]
    [InlineData("a//b", false)]
    public void IsValidRepository_Classifies(string name, bool valid) => Assert.Equal(valid, OciReference.IsValidRepository(name));

    [Theory]
    [InlineData("python:3.12-slim-bookworm", true)]
    [InlineData("ghcr.io/astral-sh/uv:0.9.5", true)]
    [InlineData("localhost/debian-python:bookworm", true)]
    [InlineData("reg:5000/a@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", true)]
    [InlineData("python:3.12 slim", false)]
    public void IsValidImage_Classifies(string reference, bool valid) => Assert.Equal(valid, OciReference.IsValidImage(reference));
}
