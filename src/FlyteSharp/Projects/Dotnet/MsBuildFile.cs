using System.Xml;
using System.Xml.Linq;

namespace FlyteSharp.Projects.Dotnet;

/// <summary>An MSBuild XML file (.csproj, .props, .targets) read with line information; malformed XML is a <see cref="FlyteSharpException"/> naming the line.</summary>
internal sealed class MsBuildFile
{
    private MsBuildFile(string path, XElement root)
    {
        Path = path;
        Root = root;
    }

    /// <summary>Full path of the file.</summary>
    public string Path { get; }

    /// <summary>The <c>&lt;Project&gt;</c> element.</summary>
    public XElement Root { get; }

    /// <summary>The directory of the file with a trailing separator (MSBuild's <c>$(MSBuildThisFileDirectory)</c>).</summary>
    public string DirectoryWithSlash => System.IO.Path.GetDirectoryName(Path)! + System.IO.Path.DirectorySeparatorChar;

    /// <summary>Reads <paramref name="path"/>.</summary>
    /// <exception cref="FlyteSharpException">The file is missing, is not XML, or its root is not <c>&lt;Project&gt;</c>.</exception>
    public static MsBuildFile Load(string path, string what)
    {
        XDocument document;
        try
        {
            document = XDocument.Load(path, LoadOptions.SetLineInfo);
        }
        catch (XmlException ex)
        {
            throw new FlyteSharpException($"{what} is not well-formed XML: {ex.Message}", path, ex.LineNumber > 0 ? ex.LineNumber : null,
                "fix the XML (an unclosed element or a stray character; a merge conflict marker is the usual cause); `dotnet build` shows the same error");
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new FlyteSharpException($"{what} not found", path, fix: "check the path");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new FlyteSharpException($"{what} cannot be read: {ex.Message}", path, fix: "check the file's permissions");
        }

        if (document.Root is not { Name.LocalName: "Project" } root)
        {
            throw new FlyteSharpException($"{what} has no <Project> root element", path, LineOf(document.Root), "an MSBuild file starts with <Project Sdk=\"Microsoft.NET.Sdk\"> (or <Project> for .props/.targets)");
        }

        return new MsBuildFile(path, root);
    }

    /// <summary>The 1-based line of an element, or null when unknown.</summary>
    public static int? LineOf(XObject? node) => node is IXmlLineInfo info && info.HasLineInfo() ? info.LineNumber : null;
}
