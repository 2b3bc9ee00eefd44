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
    public void TakeOutputFile_RegularFile_MovesItIntoTheSandboxesSpillFolder()
    {
        var replica = Directory.CreateDirectory(Path.Combine(_spill, "replica")).FullName;
        var file = Path.Combine(replica, "r7.output.json");
        File.WriteAllText(file, "[4]");

        var taken = ReusableEnvironments.TakeOutputFile(file, Path.Combine(_spill, "sandbox"));

        Assert.Equal(Path.Combine(_spill, "sandbox", "spill", "r7.output.json"), taken);
        Assert.Equal("[4]", File.ReadAllText(taken));
        Assert.False(File.Exists(file));
    }

    [Theory]
    [InlineData("deleted")]
    [InlineData("directory")]
    public void TakeOutputFile_TaskCodeDeletedItOrPutAFolderThere_ClearErrorNotARawIOException(string what)
    {
        var replica = Directory.CreateDirectory(Path.Combine(_spill, "replica")).FullName;
        var file = Path.Combine(replica, "r8.output.json");
        if (what == "directory")
        {
            Directory.CreateDirectory(Path.Combine(file, "inside"));
        }

        var ex = Assert.Throws<FlyteSharpException>(() => ReusableEnvironments.TakeOutputFile(file, Path.Combine(_spill, "sandbox")));

        Assert.Contains("output file in its reusable container is missing or cannot be moved", ex.Reason, StringComparison.Ordinal);
        Assert.Contains("return the value from the task", ex.Fix, StringComparison.Ordinal);
        Assert.Equal(what == "directory", Directory.Exists(Path.Combine(file, "inside")));
    }

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
