namespace FlyteSharp.Files;

/// <summary>How a <see cref="FileWalker"/> treats what is not a plain file or directory.</summary>
/// <param name="IgnoreFileName">The ignore file named in error fixes (<c>.flyteignore</c>, <c>.dockerignore</c>).</param>
/// <param name="SkipGit">Never enter or list a <c>.git</c> entry.</param>
/// <param name="FollowDirectoryLinks">Follow symlinks to directories (loops are refused); when false such a link is an error.</param>
/// <param name="DirectoryLinkRefusal">The error for a directory symlink when <paramref name="FollowDirectoryLinks"/> is false ({0}: the link's relative path).</param>
/// <param name="OutsideLinkRefusal">The error for a symlink resolving outside the root ({0}: relative path, {1}: target, {2}: root).</param>
/// <param name="OutsideLinkFix">The fix for <paramref name="OutsideLinkRefusal"/>.</param>
/// <param name="LinkPathIsTarget">A kept symlinked file is reported at its target's real path (so a copy reads exactly what was hashed).</param>
internal sealed record WalkPolicy(
    string IgnoreFileName,
    bool SkipGit,
    bool FollowDirectoryLinks,
    string DirectoryLinkRefusal,
    string OutsideLinkRefusal,
    string OutsideLinkFix,
    bool LinkPathIsTarget);
