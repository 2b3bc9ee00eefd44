using System.Diagnostics;
using FlyteSharp.Execution.Containers;

namespace FlyteSharp.Tests.Execution.Containers;

/// <summary>
/// A reusable replica's large output is moved out of a folder the task's code can write: only a regular file may pass,
/// never a symlink (it would make the driver read a host file as the output) or a FIFO (a read that never returns).
/// </summary>
public sealed class ReusableOutputFileTests : IDisposable
{
    private readonly string _spill = Directory.CreateTempSubdirectory("flytesharp-spill-").FullName;

    public void Dispose() => Directory.Delete(_spill, recursive: true);

    private string Moved => Path.Combine(_spill, "r1.output.json");

    [Fact]
    public void ThrowUnlessRegularFile_RegularFile_Passes()
    {
        File.WriteAllText(Moved, "[1, 2, 3]");

        ReusableEnvironments.ThrowUnlessRegularFile(Moved);

        Assert.Equal("[1, 2, 3]", File.ReadAllText(Moved));
    }

    [Fact]
    public void ThrowUnlessRegularFile_SymlinkToAHostFile_ThrowsAndDeletesTheLinkNotItsTarget()
    {
        var host = Path.Combine(_spill, "host-secret.txt");
        File.WriteAllText(host, "host secret");
        File.CreateSymbolicLink(Moved, host);

        var ex = Assert.Throws<FlyteSharpException>(() => ReusableEnvironments.ThrowUnlessRegularFile(Moved));

        Assert.Contains("not a regular file", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("host secret", ex.ToString(), StringComparison.Ordinal);
        Assert.False(File.Exists(Moved) || new FileInfo(Moved).LinkTarget is not null);
        Assert.Equal("host secret", File.ReadAllText(host));
    }

    [Fact]
    public async Task ThrowUnlessRegularFile_Fifo_ThrowsWithoutOpeningIt()
    {
        using (var mkfifo = Process.Start("mkfifo", [Moved]))
        {
            await mkfifo.WaitForExitAsync(TestContext.Current.CancellationToken);
            Assert.Equal(0, mkfifo.ExitCode);
        }

        var ex = Assert.Throws<FlyteSharpException>(() => ReusableEnvironments.ThrowUnlessRegularFile(Moved));

        Assert.Contains("FIFO", ex.Message, StringComparison.Ordinal);
        Assert.False(Path.Exists(Moved));
    }
}
