using FlyteSharp.Deploy;
using FlyteSharp.Images;
using FlyteSharp.Tests.Images;

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

    [Fact]
    public void TryStage_CodeEditedAfterTheImageWasTagged_NoStagedImage()
    {
        using var tree = new ProjectTree();
        tree.Write("app/ops.py", "def add(x: int) -> int:\n    return x + 1\n");
        // A builder layer under the code: the check can then run on that base with the code unpacked over it.
        var image = Image.FromDebianBase().WithAptPackages("git").WithCodeBundle();
        var options = new ImageResolveOptions(ProjectTree.Config with { RootDir = tree.Root }, CopyStyle.None);
        var sandbox = Directory.CreateTempSubdirectory("flytesharp-staged-").FullName;

        var tagged = image.Resolve(options);
        var staged = StagedCheckImage.TryStage(image, tagged, options, sandbox, CancellationToken.None);
        Assert.NotNull(staged);
        Assert.True(File.Exists(staged.CodeTar));

        // Edited between tagging and staging: the tar would hold code the tagged image does not.
        tree.Write("app/ops.py", "def add(x: int) -> int:\n    return x + 2\n");
        Assert.Null(StagedCheckImage.TryStage(image, tagged, options, sandbox, CancellationToken.None));
        Assert.Equal([staged.CodeTar], Directory.GetFiles(sandbox));
        Directory.Delete(sandbox, recursive: true);
    }

    [Theory]
    [InlineData("5ec3a4dda458595321e8d46e5e64184ab4cc25798086d334a2717d75c5724454", "sha256:5ec3a4dda458595321e8d46e5e64184ab4cc25798086d334a2717d75c5724454")]
    [InlineData("sha256:5ec3a4dd", "sha256:5ec3a4dd")]
    public void Digest_PodmanIdOrDockerId_SameDigestForm(string id, string expected) => Assert.Equal(expected, StagedCheckImage.Digest(id));
}
