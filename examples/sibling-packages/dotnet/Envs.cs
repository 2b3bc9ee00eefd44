using FlyteSharp;
using FlyteSharp.Images;
using FlyteSharp.Tasks;

namespace SiblingPackages;

/// <summary>
/// The environment of seed Pattern B: my_app has its own pyproject.toml with my-lib as an editable path
/// dependency. The image installs my_app's dependencies (my-lib built non-editable from ../my_lib) and
/// also bakes my_lib's package into /root/my_lib with WithSourceFolder, so it is importable at run time.
/// </summary>
public static class Envs
{
    /// <summary>examples/sibling-packages/my_app, found from this file like Python's __file__.</summary>
    public static readonly string MyAppRoot = SourceLocation.Combine("../my_app");

    /// <summary>my_lib's package directory: my_lib/src/my_lib.</summary>
    public static readonly string MyLibPackage = Path.Combine(MyAppRoot, "..", "my_lib", "src", "my_lib");

    /// <summary>The code bundle's root: my_app/src (my_lib is in the image, not the bundle).</summary>
    public static readonly string SrcDir = Path.Combine(MyAppRoot, "src");

    /// <summary>The my_app environment.</summary>
    public static readonly TaskEnvironment MyApp = new(
        "my_app",
        Image.FromDebianBase()
            .WithUvProject(Path.Combine(MyAppRoot, "pyproject.toml"))
            .WithSourceFolder(MyLibPackage)
            .WithCodeBundle(),
        new Resources(Cpu: "1", Memory: "256Mi"));
}
