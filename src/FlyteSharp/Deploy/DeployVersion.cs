using System.Text.RegularExpressions;
using FlyteSharp.Processes;

namespace FlyteSharp.Deploy;

/// <summary>
/// Deploy versions: a string you can trace back to the code (a git SHA or tag, a CI build number).
/// <c>git</c> stands for the current commit of the project's repository.
/// </summary>
public static partial class DeployVersion
{
    /// <summary>The version name that means "the current git commit".</summary>
    public const string Git = "git";

    /// <summary>Throws unless <paramref name="version"/> is a usable version string; returns it.</summary>
    /// <exception cref="FlyteSharpException">Empty, too long, or holds characters other than letters, digits, <c>._+-</c>.</exception>
    public static string Validate(string? version)
    {
        if (string.IsNullOrWhiteSpace(version))
        {
            throw new FlyteSharpException("a deploy version is required",
                fix: "pass a version such as \"1.2.3\"; a git commit SHA or tag (--version git) traces which code is in which image");
        }

        if (!Valid().IsMatch(version))
        {
            throw new FlyteSharpException($"deploy version '{version}' is not valid",
                fix: "use 1-128 letters, digits, '.', '_', '+' or '-', starting with a letter or digit (e.g. 1.2.3 or a git SHA)");
        }

        return version;
    }

    /// <summary>
    /// Resolves <paramref name="version"/>: <c>git</c> becomes the full SHA of HEAD in the repository holding
    /// <paramref name="directory"/> (refusing uncommitted changes unless <paramref name="allowDirty"/>, which
    /// appends <c>-dirty</c>); anything else is validated and returned.
    /// </summary>
    /// <exception cref="FlyteSharpException">Not a git repository, a dirty tree, or an invalid version.</exception>
    public static async Task<string> ResolveAsync(string? version, string directory, bool allowDirty = false, CancellationToken cancellationToken = default)
    {
        if (!string.Equals(version, Git, StringComparison.Ordinal))
        {
            return Validate(version);
        }

        var head = await CliProcess.RunAsync("git", ["-C", directory, "rev-parse", "--verify", "HEAD"], cancellationToken: cancellationToken).ConfigureAwait(false);
        if (!head.Succeeded)
        {
            throw new FlyteSharpException($"--version git needs a git repository with a commit: {CliProcess.Tail(head.Combined, 3)}", directory,
                fix: "commit the project first (git init && git commit), or pass an explicit --version");
        }

        var sha = head.StandardOutput.Trim();
        var status = await CliProcess.RunAsync("git", ["-C", directory, "status", "--porcelain", "--untracked-files=normal"], cancellationToken: cancellationToken).ConfigureAwait(false);
        if (!status.Succeeded)
        {
            throw new FlyteSharpException($"git status failed: {CliProcess.Tail(status.Combined, 3)}", directory);
        }

        var changes = status.StandardOutput.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        if (changes.Length == 0)
        {
            return sha;
        }

        if (!allowDirty)
        {
            throw new FlyteSharpException(
                $"the working tree has {changes.Length} uncommitted change(s) (e.g. {changes[0].Trim()}), so commit {sha[..12]} does not describe the code",
                directory, fix: "commit or stash the changes, or pass --allow-dirty (the version gets a -dirty suffix)");
        }

        return sha + "-dirty";
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$")]
    private static partial Regex Valid();
}
