using FlyteSharp.Deploy;

namespace FlyteSharp.Tests.Deploy;

public class StagedCheckImageTests
{
    [Fact]
    public void SourcesUnchanged_FileEditedOrRemovedAfterTheCheckReadIt_False()
    {
        var dir = Directory.CreateTempSubdirectory("flytesharp-staged-").FullName;
        try
        {
            var file = Path.Combine(dir, "ops.py");
            File.WriteAllText(file, "def add(x: int) -> int:\n    return x + 1\n");
            var read = new FileInfo(file);
            var staged = new StagedCheckImage(null!, "base", "sha256:id", [], "code.tar", [], null, [(file, read.Length, read.LastWriteTimeUtc)]);
            Assert.True(staged.SourcesUnchanged());

            // Same length, new content: the modification time tells.
            File.WriteAllText(file, "def add(x: int) -> int:\n    return x + 2\n");
            File.SetLastWriteTimeUtc(file, read.LastWriteTimeUtc.AddSeconds(1));
            Assert.False(staged.SourcesUnchanged());

            File.Delete(file);
            Assert.False(staged.SourcesUnchanged());
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData("5ec3a4dda458595321e8d46e5e64184ab4cc25798086d334a2717d75c5724454", "sha256:5ec3a4dda458595321e8d46e5e64184ab4cc25798086d334a2717d75c5724454")]
    [InlineData("sha256:5ec3a4dd", "sha256:5ec3a4dd")]
    public void Digest_PodmanIdOrDockerId_SameDigestForm(string id, string expected) => Assert.Equal(expected, StagedCheckImage.Digest(id));
}
