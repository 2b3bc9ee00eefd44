using FlyteSharp.Tasks;

namespace FlyteSharp.Tests.Tasks;

public class ResourcesTests
{
    [Theory]
    [InlineData("1", 1.0)]
    [InlineData("500m", 0.5)]
    [InlineData("0.25", 0.25)]
    public void Cpu_ValidQuantity_ParsesToCores(string cpu, double cores) =>
        Assert.Equal(cores, new Resources(Cpu: cpu).CpuCores);

    [Theory]
    [InlineData("512Mi", 512L * 1024 * 1024)]
    [InlineData("2Gi", 2L * 1024 * 1024 * 1024)]
    [InlineData("1G", 1_000_000_000L)]
    public void Memory_ValidQuantity_ParsesToBytes(string memory, long bytes) =>
        Assert.Equal(bytes, new Resources(Memory: memory).MemoryBytes);

    [Fact]
    public void Memory_WithByteSuffix_ExplainsKubernetesUnits()
    {
        var ex = Assert.Throws<FlyteSharpException>(() => new Resources(Memory: "512MB"));
        Assert.Contains("'512MB'", ex.Message);
        Assert.Contains("Mi", ex.Message);
        Assert.NotNull(ex.Fix);
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("0")]
    [InlineData("one")]
    [InlineData("")]
    public void Cpu_Invalid_Throws(string cpu) =>
        Assert.Throws<FlyteSharpException>(() => new Resources(Cpu: cpu));
}
