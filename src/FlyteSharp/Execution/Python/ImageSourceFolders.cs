using FlyteSharp.Images;
using FlyteSharp.Tasks;

namespace FlyteSharp.Execution.Python;

/// <summary>
/// The environment image's <c>WithSourceFolder</c> folders that land directly on the image's PYTHONPATH
/// (<c>/root/{name}</c>), so Python imports them by that name (seed Pattern B's <c>my_lib</c>).
/// </summary>
internal static class ImageSourceFolders
{
    /// <summary>Each importable folder: the top-level name Python imports it by, and the folder on this machine.</summary>
    public static IEnumerable<(string Name, string Source)> Importable(TaskEnvironment environment)
    {
        foreach (var folder in environment.Image.Layers.OfType<SourceFolderLayer>())
        {
            var destination = folder.Destination ?? Path.GetFileName(folder.Source);
            if (destination.StartsWith("/root/", StringComparison.Ordinal))
            {
                destination = destination["/root/".Length..];
            }

            // Only a folder directly on the image's PYTHONPATH is importable there; anything else is not mirrored.
            if (destination.Length == 0 || destination.Contains('/') || destination.StartsWith('.'))
            {
                continue;
            }

            yield return (destination, folder.Source);
        }
    }
}
