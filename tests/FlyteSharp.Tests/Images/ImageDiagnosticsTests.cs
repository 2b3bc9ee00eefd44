using FlyteSharp.Images;

namespace FlyteSharp.Tests.Images;

public sealed class ImageDiagnosticsTests : IDisposable
{
    private readonly ProjectTree _tree = new();

    public void Dispose() => _tree.Dispose();

    [Fact]
    public void Check_SourceFolderUnderRootDir_Warns()
    {
        var pyproject = _tree.WriteWorkspace();
        var image = Image.FromDebianBase().WithUvProject(pyproject).WithSourceFolder(_tree.Path("ws/src/lib_transforms")).WithCodeBundle();
        var d = Assert.Single(ImageDiagnostics.Check(image, _tree.Path("ws/src")));
        Assert.Equal(DiagnosticSeverity.Warning, d.Severity);
        Assert.Contains("root_dir", d.Reason);
        Assert.Contains("code bundle", d.Fix);
    }

    [Fact]
    public void Check_SourceFolderOutsideRootDir_IsFine()
    {
        var pyproject = _tree.WriteSiblings();
        var image = Image.FromDebianBase().WithUvProject(pyproject).WithSourceFolder(_tree.Path("sib/my_lib/src/my_lib")).WithCodeBundle();
        _tree.Write("sib/my_app/uv.lock", "version = 1\n\n[[package]]\nname = \"my-app\"\nversion = \"0.1.0\"\nsource = { editable = \".\" }\n");
        image = Image.FromDebianBase().WithUvProject(pyproject).WithSourceFolder(_tree.Path("sib/my_lib/src/my_lib")).WithCodeBundle();
        Assert.Empty(ImageDiagnostics.Check(image, _tree.Path("sib/my_app/src")));
    }

    [Fact]
    public void Check_InstallProject_Warns() =>
        Assert.Contains(ImageDiagnostics.Check(Image.FromDebianBase().WithUvProject(_tree.WriteWorkspace(), installMode: UvInstallMode.InstallProject).WithCodeBundle(), null),
            d => d.Reason.Contains("InstallProject"));

    [Fact]
    public void Check_NoLock_WarnsWithUvLockFix()
    {
        _tree.Write("nolock/pyproject.toml", ProjectTree.GroupsPyproject);
        var d = Assert.Single(ImageDiagnostics.Check(Image.FromDebianBase().WithUvProject(_tree.Path("nolock/pyproject.toml")).WithCodeBundle(), null));
        Assert.Contains("not reproducible", d.Reason);
        Assert.Contains("uv lock", d.Fix);
    }

    [Fact]
    public void Check_GroupRemovedFromPyprojectAfterDefinition_IsError()
    {
        var pyproject = _tree.WriteWorkspace();
        var image = Image.FromDebianBase().WithUvProject(pyproject, extraArgs: "--only-group etl").WithCodeBundle();
        File.WriteAllText(pyproject, ProjectTree.GroupsPyproject.Replace("etl = [\"pandas\"]\n", ""));
        var d = Assert.Single(ImageDiagnostics.Check(image, null), x => x.Severity == DiagnosticSeverity.Error);
        Assert.Contains("'etl'", d.Reason);
    }

    [Fact]
    public void Check_NoCodeBundle_Warns() =>
        Assert.Contains(ImageDiagnostics.Check(Image.FromDebianBase(), null), d => d.Reason.Contains("WithCodeBundle"));
}
