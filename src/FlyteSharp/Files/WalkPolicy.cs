namespace FlyteSharp.Files;

/// <summary>How a <see cref="FileWalker"/> treats what is not a plain file or directory.</summary>
/// <param name="IgnoreFileName">The ignore file named in error fixes (<c>.flyteignore</c>, <c>.dockerignore</c>).</param>
/// <param name="SkipGit">Never enter or list a <c>.git</c> entry.</param>
/// <param name="FollowDirectoryLinks">Follow symlinks to directories (loops are refused); when false such a link is an error.</param>
/// <param name="LinksStayInside">A symlink must resolve inside the walk's root (when false a file link may point anywhere).</param>
/// <param name="DirectoryLinkRefusal">The error for a directory symlink when <paramref name="FollowDirectoryLinks"/> is false.</param>
internal sealed record WalkPolicy(string IgnoreFileName, bool SkipGit, bool FollowDirectoryLinks, bool LinksStayInside, string DirectoryLinkRefusal = "");
