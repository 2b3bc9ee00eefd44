namespace FlyteSharp.Projects.Uv;

/// <summary>
/// What one workspace package's pyproject.toml declares that uv.lock did not record, and the other way round.
/// </summary>
/// <param name="Package">The package (root or member).</param>
/// <param name="Added">Requirements in pyproject.toml that uv.lock lacks, as written there.</param>
/// <param name="Removed">Requirements uv.lock recorded that pyproject.toml no longer declares.</param>
internal sealed record UvLockDrift(UvWorkspaceMember Package, IReadOnlyList<string> Added, IReadOnlyList<string> Removed)
{
    /// <summary>The one-line reason, e.g. <c>uv.lock is out of date with pyproject.toml (added: rich; removed: six)</c>.</summary>
    public string Reason
    {
        get
        {
            var parts = new List<string>();
            if (Added.Count > 0)
            {
                parts.Add("added: " + string.Join(", ", Added));
            }

            if (Removed.Count > 0)
            {
                parts.Add("removed: " + string.Join(", ", Removed));
            }

            return $"uv.lock is out of date with {(Package.IsRoot ? "pyproject.toml" : $"the pyproject.toml of '{Package.Project.Name}'")} ({string.Join("; ", parts)})";
        }
    }
}
