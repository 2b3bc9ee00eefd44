using System.Diagnostics;
using FlyteSharp.Execution.Containers;

namespace FlyteSharp.Tests.Execution.Containers;

/// <summary>The reply file lives in a folder the container's task can write: what it may put there must not reach the driver's host.</summary>
public sealed class ReplyFileTests : IDisposable
{
    private readonly string _io = Directory.CreateTempSubdirectory("flytesharp-reply-").FullName;

    public void Dispose() => Directory.Delete(_io, recursive: true);

    private string Reply => Path.Combine(_io, "outputs.json");

    [Fact]
    public void Read_RegularFile_ReturnsItsText()
    {
        File.WriteAllText(Reply, """{"ok": true, "output": "é"}""");

        Assert.Equal("""{"ok": true, "output": "é"}""", ReplyFile.Read(Reply));
    }

    [Fact]
    public void Read_NoFile_ReturnsNull()
    {
        Assert.Null(ReplyFile.Read(Reply));
    }

    [Fact]
    public void Read_SymlinkToAHostFile_ThrowsWithoutReadingIt()
    {
        var secret = Path.Combine(_io, "..", Path.GetFileName(_io) + "-host-secret.json");
        File.WriteAllText(secret, """{"ok": true, "output": "host secret"}""");
        try
        {
            File.CreateSymbolicLink(Reply, secret);

            var ex = Assert.Throws<FlyteSharpException>(() => ReplyFile.Read(Reply));

            Assert.Contains("is a symlink", ex.Message);
            Assert.DoesNotContain("host secret", ex.Message);
        }
        finally
        {
            File.Delete(secret);
        }
    }

    [Fact]
    public void Read_SymlinkToDevZero_ThrowsInsteadOfReadingForever()
    {
        File.CreateSymbolicLink(Reply, "/dev/zero");

        var ex = Assert.Throws<FlyteSharpException>(() => ReplyFile.Read(Reply));

        Assert.Contains("is a symlink", ex.Message);
    }

    [Fact]
    public async Task Read_Fifo_ThrowsInsteadOfBlocking()
    {
        using (var mkfifo = Process.Start("mkfifo", [Reply]))
        {
            await mkfifo.WaitForExitAsync(TestContext.Current.CancellationToken);
            Assert.Equal(0, mkfifo.ExitCode);
        }

        // Without O_NONBLOCK the open of a FIFO with no writer never returns: bounded here so the test fails instead of hanging.
        var read = Task.Run(() => ReplyFile.Read(Reply));
        var finished = await Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(10), TestContext.Current.CancellationToken));

        Assert.Same(read, finished);
        var ex = await Assert.ThrowsAsync<FlyteSharpException>(() => read);
        Assert.Contains("is not a regular file", ex.Message);
    }

    [Fact]
    public void Read_FileLargerThanTheLimit_ThrowsInsteadOfLoadingIt()
    {
        using (var huge = File.Create(Reply))
        {
            huge.SetLength(ReplyFile.Limit + 1); // sparse: no disk used
        }

        var ex = Assert.Throws<FlyteSharpException>(() => ReplyFile.Read(Reply));

        Assert.Contains("more than the", ex.Message);
    }
}
