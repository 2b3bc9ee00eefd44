using System.Text.RegularExpressions;
using FlyteSharp.Images;

namespace FlyteSharp.Tasks;

/// <summary>
/// A named place tasks run in: one image and one set of resources (the seed's
/// <c>flyte.TaskEnvironment(name=…, image=…, resources=…)</c>). Define environments as static
/// fields or properties so tools such as <c>flytesharp images</c> can find them.
/// </summary>
public sealed partial class TaskEnvironment
{
    /// <summary>Creates an environment.</summary>
    /// <param name="name">Lower-case name, e.g. <c>etl</c>; part of task names and image lookups.</param>
    /// <param name="image">The image every task of this environment runs in.</param>
    /// <param name="resources">Resources per task container; none by default.</param>
    public TaskEnvironment(string name, Image image, Resources? resources = null)
    {
        ArgumentNullException.ThrowIfNull(image);
        if (string.IsNullOrEmpty(name) || !ValidName().IsMatch(name))
        {
            throw new FlyteSharpException($"task environment name '{name}' is not valid",
                fix: "use lower-case letters, digits, '_' and '-', starting with a letter (e.g. \"etl\")");
        }

        Name = name;
        Image = image;
        Resources = resources ?? new Resources();
    }

    /// <summary>The environment's name.</summary>
    public string Name { get; }

    /// <summary>The image tasks of this environment run in.</summary>
    public Image Image { get; }

    /// <summary>Resources each task container gets.</summary>
    public Resources Resources { get; }

    /// <inheritdoc/>
    public override string ToString() => $"TaskEnvironment({Name})";

    [GeneratedRegex("^[a-z][a-z0-9_-]{0,62}$")]
    private static partial Regex ValidName();
}
